// The cost over a plane through the network's parameters, with the path training took
// (the server computes it: app/mnist/landscape.py), as a contour map or, on request, a 3-D
// surface. One Plotly.react per landscape received (or per switch of the view), when the
// page's frame scheduler says so (frames.js): `shown` is what the plot shows.

import { count, percent } from "../common/format.js";

const FONT = { family: "system-ui, sans-serif", size: 11, color: "#374151" };
const SCALE = [[0, "#f4f7fa"], [0.3, "#c9d6e3"], [0.65, "#8aa2ba"], [1, "#3d5166"]]; // the lab's
const PATH = "#f97316";

export class LandscapeView {
  constructor(plotEl, explainedEl, noteEl) {
    this.plotEl = plotEl;
    this.explainedEl = explainedEl;
    this.noteEl = noteEl;
    this.shown = null;
    this.pending = null; // received, not drawn yet
    this.threeD = false;
  }

  note(text) {
    this.noteEl.textContent = text;
  }

  /** Contour (false) or 3-D surface (true); redraws what is shown. */
  setThreeD(on) {
    this.threeD = on;
    if (this.shown) this.render();
  }

  show(m) {
    this.pending = m;
  }

  /** A new training: the last one's plane and path go, rather than stand under its note. */
  reset(note) {
    this.pending = null;
    this.shown = null;
    this.explainedEl.textContent = "";
    Plotly.purge(this.plotEl);
    this.note(note);
  }

  dirty() {
    return this.pending !== null;
  }

  draw() {
    const m = this.pending;
    if (!m) return;
    this.pending = null;
    this.shown = m;
    this.explainedEl.textContent = m.method === "pca"
      ? `the path's variance: ${percent(m.explained[0])} along the first direction, ${percent(m.explained[1])} along the second`
      : "random directions, each neuron's weights scaled to its own norm; biases not moved";
    this.note(`step ${count(m.step)} · cost on ${count(m.samples)} test digits`);
    this.render();
  }

  render() {
    const m = this.shown;
    const figure = this.threeD ? surfaceFigure(m) : contourFigure(m);
    Plotly.react(this.plotEl, { ...figure, config: { displaylogo: false, responsive: true } });
  }
}

function axisTitle(m, k) {
  return m.method === "pca" ? `principal direction ${k} (${percent(m.explained[k - 1], 0)})` : `random direction ${k}`;
}

function contourFigure(m) {
  // Coloured by log10(cost): around a minimum the cost differs by little in absolute terms,
  // and a linear scale spends its colours on the far, steep side of the plane.
  const logCost = m.cost.map((row) => row.map((c) => (c === null || c <= 0 ? null : Math.log10(c))));
  const text = m.cost.map((row) => row.map((c) => (c === null ? "not finite" : c.toPrecision(4))));
  const values = logCost.flat().filter((v) => v !== null);
  const ticks = colourTicks(Math.min(...values), Math.max(...values));
  const xs = m.path.map((p) => p[0]);
  const ys = m.path.map((p) => p[1]);
  const last = m.path.length - 1;
  return {
    data: [
      { type: "contour", x: m.a, y: m.b, z: logCost, text, colorscale: SCALE, ncontours: 24,
        contours: { coloring: "heatmap", showlines: true }, line: { color: "rgba(255,255,255,0.5)", width: 0.6 },
        colorbar: { thickness: 10, len: 0.9, outlinewidth: 0, tickfont: { size: 10 },
          tickvals: ticks.map(Math.log10), ticktext: ticks.map(String),
          title: { text: "cost (log scale)", side: "right", font: { size: 11 } } },
        hovertemplate: "a %{x:.3g}, b %{y:.3g}: cost %{text}<extra></extra>" },
      { type: "scatter", mode: "lines+markers", x: xs, y: ys, name: "training path",
        line: { color: PATH, width: 2 }, marker: { color: PATH, size: 5 },
        hovertemplate: "visited: a %{x:.3g}, b %{y:.3g}<extra></extra>" },
      { type: "scatter", mode: "markers+text", x: [xs[0], xs[last]], y: [ys[0], ys[last]],
        text: last ? ["start", "now"] : ["now"], textposition: "top center", textfont: { size: 11, color: "#111827" },
        marker: { color: ["#ffffff", PATH], size: 10, line: { color: "#111827", width: 1.5 } },
        hoverinfo: "skip", showlegend: false },
    ],
    layout: {
      margin: { l: 52, r: 10, t: 10, b: 40 }, font: FONT, showlegend: false,
      xaxis: { title: { text: `a: ${axisTitle(m, 1)}`, standoff: 2 }, range: [m.a[0], m.a[m.a.length - 1]] },
      yaxis: { title: { text: `b: ${axisTitle(m, 2)}`, standoff: 2 }, range: [m.b[0], m.b[m.b.length - 1]] },
    },
  };
}

/** The 3-D view: the surface, and the path drawn on it at the cost the plane has under each
 * of its points (the path's own networks lie off the plane, except the last). */
function surfaceFigure(m) {
  // log10(cost) as height, as the contour's colours: the valley's floor keeps its shape.
  const logCost = m.cost.map((row) => row.map((c) => (c === null || c <= 0 ? null : Math.log10(c))));
  const values = logCost.flat().filter((v) => v !== null);
  const ticks = colourTicks(Math.min(...values), Math.max(...values));
  const text = m.cost.map((row) => row.map((c) => (c === null ? "not finite" : c.toPrecision(4))));
  const xs = m.path.map((p) => p[0]);
  const ys = m.path.map((p) => p[1]);
  const zs = m.path.map((p) => {
    const c = onGrid(m, p[0], p[1]);
    return c === null || c <= 0 ? null : Math.log10(c);
  });
  const last = m.path.length - 1;
  return {
    data: [
      { type: "surface", x: m.a, y: m.b, z: logCost, text, colorscale: SCALE, showscale: false,
        contours: { z: { show: true, usecolormap: true, project: { z: true } } },
        hovertemplate: "a %{x:.3g}, b %{y:.3g}: cost %{text}<extra></extra>" },
      { type: "scatter3d", mode: "lines+markers", x: xs, y: ys, z: zs, line: { color: PATH, width: 5 },
        marker: { color: PATH, size: 2.5 }, hovertemplate: "path over a %{x:.3g}, b %{y:.3g}<extra></extra>" },
      { type: "scatter3d", mode: "markers+text", x: [xs[0], xs[last]], y: [ys[0], ys[last]], z: [zs[0], zs[last]],
        text: last ? ["start", "now"] : ["now"], textfont: { size: 11, color: "#111827" },
        marker: { color: ["#ffffff", PATH], size: 5, line: { color: "#111827", width: 1 } }, hoverinfo: "skip" },
    ],
    layout: {
      margin: { l: 0, r: 0, t: 0, b: 0 }, font: FONT, showlegend: false,
      scene: { xaxis: { title: { text: "a" } }, yaxis: { title: { text: "b" } },
        zaxis: { title: { text: "cost" }, tickvals: ticks.map(Math.log10), ticktext: ticks.map(String) },
        aspectmode: "manual", aspectratio: { x: 1.4, y: 1, z: 0.6 },
        camera: { eye: { x: 0.3, y: -1.9, z: 0.9 } } },
    },
  };
}

/** The grid's cost at (a, b) by bilinear interpolation (null where a corner is not finite). */
function onGrid(m, a, b) {
  const locate = (axis, v) => {
    const step = (axis[axis.length - 1] - axis[0]) / (axis.length - 1);
    const t = Math.min(axis.length - 1.000001, Math.max(0, (v - axis[0]) / step));
    return [Math.floor(t), t - Math.floor(t)];
  };
  const [i, u] = locate(m.a, a);
  const [j, v] = locate(m.b, b);
  const c = [m.cost[j][i], m.cost[j][i + 1], m.cost[j + 1][i], m.cost[j + 1][i + 1]];
  if (c.some((x) => x === null)) return null;
  return (1 - v) * ((1 - u) * c[0] + u * c[1]) + v * ((1 - u) * c[2] + u * c[3]);
}

/** Round values (1, 2, 5 × 10^k) for the colour bar between 10^lo and 10^hi. */
function colourTicks(lo, hi) {
  const ticks = [];
  for (let k = Math.floor(lo); k <= Math.ceil(hi); k++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** k;
      if (Math.log10(v) >= lo - 1e-9 && Math.log10(v) <= hi + 1e-9) ticks.push(Number(v.toPrecision(1)));
    }
  }
  return ticks.length ? ticks : [Number((10 ** lo).toPrecision(2))];
}
