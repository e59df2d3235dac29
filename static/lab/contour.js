// The contour view, in two Plotly layers of identical size and axes: the field (filled contour
// and colour bar, drawn once per surface: redrawing it costs ~50 ms) and, on top, the live
// layer #contour (minima, gradient arrows, paths, start and current markers), which one
// Plotly.extendTraces call per frame brings up to date.

import { exitPoint, FONT, inDomain, SCALE, slopeRank } from "./field.js";
import { drawnSteps, lastStep } from "./paths.js";

const MARGIN = { l: 48, r: 88, t: 12, b: 40, pad: 0, autoexpand: false };
const ARROWS = [
  { sign: 1, color: "#4b5563", label: "∇f" },
  { sign: -1, color: "#111827", label: "−∇f" },
];
export const TRACES_BEFORE_RUNS = 1 + ARROWS.length; // the minima, then the two arrows
export const TRACES_PER_RUN = 3; // path, start, current point
const ARROW_PX = 110; // the longest arrow, for the steepest point of the surface
const RED = "#b91c1c";
const HIDDEN = { x: [null, null, null, null], y: [null, null, null, null] };

function axes(field, visible) {
  const [xr, yr] = field.surface.domain;
  const common = {
    range: xr,
    fixedrange: true,
    zeroline: false,
    showgrid: false,
    ticks: "outside",
    ticklen: 4,
  };
  if (!visible)
    return {
      xaxis: { ...common, visible: false },
      yaxis: { ...common, range: yr, visible: false },
    };
  return {
    xaxis: { ...common, title: { text: "x", standoff: 2 } },
    yaxis: { ...common, range: yr, title: { text: "y", standoff: 2 } },
  };
}

/** The field layer: the surface's contours in the shared muted scale, with a colour bar. */
export function fieldFigure(field) {
  const { grid, zColor } = field;
  const data = [
    {
      type: "contour",
      x: grid.x,
      y: grid.y,
      z: zColor,
      colorscale: SCALE,
      ncontours: 28,
      contours: { coloring: "heatmap", showlines: true },
      line: { color: "rgba(255,255,255,0.5)", width: 0.6 },
      hoverinfo: "skip",
      colorbar: {
        thickness: 10,
        len: 0.92,
        x: 1.015,
        xanchor: "left",
        outlinewidth: 0,
        tickfont: { size: 11 },
        title: { text: field.colorTitle, side: "right", font: { size: 12 } },
      },
    },
  ];
  return {
    data,
    layout: { margin: MARGIN, font: FONT, ...axes(field, true), paper_bgcolor: "#ffffff" },
  };
}

/** The live layer: everything that moves, over a transparent background. */
export function liveFigure(field, runs, focus, scale) {
  const arrows = arrowPoints(
    field,
    runs.find((r) => r.id === focus),
    scale,
  );
  const data = [minimaTrace(field), ...ARROWS.map((a, k) => arrowTrace(a, arrows[k]))];
  for (const run of runs) data.push(pathTrace(run), startTrace(run), currentTrace(run, focus));
  const layout = {
    margin: MARGIN,
    font: FONT,
    ...axes(field, false),
    showlegend: false,
    dragmode: false,
    hovermode: "closest",
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    annotations: exitNotes(field, runs),
  };
  return { data, layout };
}

/**
 * One frame's changes for Plotly.extendTraces(gd, update, indices, maxPoints): the new steps
 * of each path, each run's current point and the focused run's arrows (these two replace
 * their old points: maxPoints = their length).
 */
export function frameUpdate(field, runs, focus, fresh, scale) {
  const update = { x: [], y: [], customdata: [] };
  const indices = [];
  const maxPoints = { x: [], y: [], customdata: [] };
  const add = (index, points, max) => {
    update.x.push(points.x);
    update.y.push(points.y);
    update.customdata.push(points.customdata || points.x.map(() => 0));
    indices.push(index);
    for (const key of ["x", "y", "customdata"]) maxPoints[key].push(max);
  };
  arrowPoints(
    field,
    runs.find((r) => r.id === focus),
    scale,
  ).forEach((points, k) => add(1 + k, points, 4));
  runs.forEach((run, k) => {
    const first = TRACES_BEFORE_RUNS + TRACES_PER_RUN * k;
    const steps = fresh[k];
    if (steps.length) {
      add(
        first,
        { x: steps.map((p) => p.x), y: steps.map((p) => p.y), customdata: steps.map((p) => p.i) },
        null,
      );
      const now = currentPoint(run);
      add(first + 2, now, now.x.length || 1);
    }
  });
  return { update, indices, maxPoints };
}

function minimaTrace(field) {
  const { minima, minima_values: values, min_value: best } = field.surface;
  const allEqual = values.every((v) => Math.abs(v - values[0]) < 1e-9);
  const text = values.map((v) =>
    allEqual ? "min" : Math.abs(v - best) < 1e-9 ? "global min" : "local min",
  );
  return {
    type: "scatter",
    mode: "markers+text",
    x: minima.map((m) => m[0]),
    y: minima.map((m) => m[1]),
    text,
    textposition: "bottom center",
    textfont: { size: 11, color: "#1f2937" },
    cliponaxis: false,
    marker: { symbol: "star", size: 13, color: "#fde047", line: { color: "#1f2937", width: 1 } },
    hovertemplate: "minimum (%{x:.4g}, %{y:.4g})<extra></extra>",
  };
}

function pathTrace(run) {
  const drawn = drawnSteps(run);
  return {
    type: "scatter",
    mode: run.dotted ? "lines+markers" : "lines",
    x: drawn.map((p) => p.x),
    y: drawn.map((p) => p.y),
    customdata: drawn.map((p) => p.i),
    line: { color: run.color, width: 2 },
    marker: { color: run.color, size: 4 },
    hovertemplate: `run ${run.id}, step %{customdata}: (%{x:.4g}, %{y:.4g})<extra></extra>`,
  };
}

function startTrace(run) {
  return {
    type: "scatter",
    mode: "markers+text",
    x: [run.start[0]],
    y: [run.start[1]],
    text: ["start"],
    textposition: besideGradient(run.steps[0]),
    textfont: { color: run.color, size: 12 },
    cliponaxis: false,
    marker: { size: 15, color: "#ffffff", line: { color: run.color, width: 3 } },
    hovertemplate: `start of run ${run.id}: drag to move<extra></extra>`,
  };
}

// Where the "start" label goes: across the gradient, so neither the arrows nor the first
// step (along −∇f) runs through it.
function besideGradient(step) {
  if (!step || !(Math.hypot(...step.g) > 0)) return "top center";
  const [gx, gy] = step.g;
  const angle = (Math.atan2(gx, -gy) * 180) / Math.PI; // the perpendicular (−gy, gx), made upward
  const up = angle < 0 ? angle + 180 : angle;
  const places = ["middle left", "top left", "top center", "top right", "middle right"];
  return places[Math.round(((180 - up) / 180) * 4)];
}

function currentTrace(run, focus) {
  const now = currentPoint(run);
  return {
    type: "scatter",
    mode: "markers+text",
    ...now,
    text: [run.id === focus ? "now" : ""],
    textposition: "top right",
    textfont: { color: "#111827", size: 12 },
    marker: { size: 11, color: run.color, line: { color: "#111827", width: 1.5 } },
    hovertemplate: `run ${run.id}, step %{customdata}: (%{x:.4g}, %{y:.4g})<extra></extra>`,
  };
}

/** A run's current point (none at step 0, where the start marker already is). */
function currentPoint(run) {
  const last = lastStep(run);
  if (!last || last.i === 0) return { x: [], y: [], customdata: [] };
  return { x: [last.x], y: [last.y], customdata: [last.i] };
}

function arrowTrace(arrow, points) {
  return {
    type: "scatter",
    mode: "lines+markers+text",
    ...points,
    customdata: [0, 0, 0, 0],
    connectgaps: false,
    text: ["", "", "", arrow.label],
    textposition: "middle center",
    textfont: { color: arrow.color, size: 13 },
    line: { color: arrow.color, width: 2.2 },
    marker: {
      symbol: ["circle", "arrow", "circle", "circle"],
      size: [0, 11, 0, 0],
      angleref: "previous",
      color: arrow.color,
    },
    hoverinfo: "skip",
    cliponaxis: false,
  };
}

/**
 * The points of ∇f (uphill, grey) and −∇f (the way descent goes, black) at the focused run's
 * current point: tail, tip, a gap, and where the label sits beyond the tip. Both are equally
 * long; the length shows how steep the point is compared with the rest of the surface (the
 * exact |∇f| is in the status).
 */
function arrowPoints(field, run, scale) {
  const point = run && lastStep(run);
  const norm = point ? Math.hypot(point.g[0], point.g[1]) : 0;
  const hide =
    !point ||
    !(norm > 0) ||
    run.state === "converged" ||
    run.state === "diverged" ||
    !inDomain(field, point.x, point.y) ||
    !scale;
  if (hide) return ARROWS.map(() => HIDDEN);
  const ux = point.g[0] / norm;
  const uy = point.g[1] / norm;
  const pixels = ARROW_PX * (0.45 + 0.55 * slopeRank(field, norm));
  const perPixel = 1 / Math.hypot(ux * scale.x, uy * scale.y); // data units along u per pixel
  const length = pixels * perPixel;
  const labelAt = length + 14 * perPixel;
  return ARROWS.map(({ sign }) => ({
    x: [point.x, point.x + sign * ux * length, null, point.x + sign * ux * labelAt],
    y: [point.y, point.y + sign * uy * length, null, point.y + sign * uy * labelAt],
  }));
}

/** A mark where a path left the plot ("✕ diverged" once the server stopped it). */
export function exitNotes(field, runs) {
  const notes = [];
  for (const run of runs) {
    const exit = exitPoint(field, run.steps);
    const last = lastStep(run);
    const name = runs.length > 1 ? ` (${run.id})` : "";
    if (exit) notes.push(exitNote(exit, run, name));
    else if (last && run.state === "diverged")
      notes.push(exitNote({ ...last, side: "right" }, run, name));
  }
  return notes;
}

function exitNote(point, run, name) {
  const offsets = { right: [-48, 0], left: [48, 0], top: [0, 30], bottom: [0, -30] };
  const [ax, ay] = offsets[point.side];
  const diverged = run.state === "diverged";
  return {
    x: point.x,
    y: point.y,
    ax,
    ay,
    text: (diverged ? "✕ diverged" : "off the plot") + name,
    showarrow: true,
    arrowhead: 2,
    arrowcolor: run.color,
    arrowwidth: 2,
    font: { color: diverged ? RED : "#1f2937", size: 12 },
    bgcolor: "rgba(255,255,255,0.9)",
    bordercolor: run.color,
    borderwidth: 1.5,
    borderpad: 2,
  };
}
