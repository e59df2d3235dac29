// The three views of the surface lab: contour, 3-D surface and cost curve.
// Plotly.newPlot/react when runs change; extendTraces once per animation frame as steps arrive.

export const ACCENTS = ["#f97316", "#2563eb", "#16a34a", "#db2777", "#7c3aed", "#0891b2",
  "#ca8a04", "#dc2626", "#4f46e5", "#059669", "#9333ea", "#e11d48", "#0d9488", "#65a30d",
  "#c026d3", "#ea580c"];
const SCALE = [[0, "#f4f7fa"], [0.3, "#c9d6e3"], [0.65, "#8aa2ba"], [1, "#3d5166"]];
const MAX_DRAWN = 3000; // points drawn per path; every step stays in the data
const CONFIG = { displaylogo: false, responsive: true };
const FONT = { family: "system-ui, sans-serif", size: 12, color: "#374151" };
const CONTOUR_TRACES_BEFORE_RUNS = 2; // contour, minima
const RUN_TRACES = 3; // path, start, current point

export class LabPlots {
  constructor(contour, surface3d, cost) {
    this.el = { contour, surface3d, cost };
    this.logCost = false;
    this.last3d = 0;
  }

  // --- whole redraws ---------------------------------------------------------------

  setSurface(surface, grid) {
    this.surface = surface;
    this.grid = grid;
    this.zColor = grid.z.map((row) => row.map((f) => this.colorValue(f)));
    this.bounds = null;
    this.span = Math.max(surface.domain[0][1] - surface.domain[0][0],
      surface.domain[1][1] - surface.domain[1][0]);
  }

  colorValue(f) {
    const s = this.surface;
    if (!s.log_color) return f;
    return Math.log10(Math.max(f - (s.min_value ?? 0), 0) + 1);
  }

  redraw(runs, focus) {
    for (const run of runs) this.decimate(run);
    Plotly.react(this.el.contour, this.contourTraces(runs), this.contourLayout(runs, focus), CONFIG);
    Plotly.react(this.el.surface3d, this.surfaceTraces(runs), this.surfaceLayout(), CONFIG);
    Plotly.react(this.el.cost, this.costTraces(runs), this.costLayout(), CONFIG);
    this.last3d = performance.now();
  }

  // --- per frame -------------------------------------------------------------------

  // New steps of each run since the last frame: extend the paths, move the markers.
  extend(runs, focus) {
    const fresh = runs.map((run, k) => ({ run, k, points: this.takeFresh(run) }));
    const growing = fresh.filter((item) => item.points.length);
    if (growing.length) {
      const xs = growing.map((g) => g.points.map((s) => s.x));
      const ys = growing.map((g) => g.points.map((s) => s.y));
      Plotly.extendTraces(this.el.contour, { x: xs, y: ys },
        growing.map((g) => CONTOUR_TRACES_BEFORE_RUNS + RUN_TRACES * g.k));
      Plotly.extendTraces(this.el.cost, {
        x: growing.map((g) => g.points.map((s) => s.i)),
        y: growing.map((g) => g.points.map((s) => this.costValue(s.f))),
      }, growing.map((g) => g.k));
    }
    const placed = runs.map((run, k) => ({ k, last: run.steps[run.steps.length - 1] }))
      .filter((item) => item.last);
    Plotly.update(this.el.contour, {
      x: placed.map((p) => [p.last.x]), y: placed.map((p) => [p.last.y]),
    }, { annotations: this.annotations(runs, focus) },
    placed.map((p) => CONTOUR_TRACES_BEFORE_RUNS + RUN_TRACES * p.k + 2));
    if (performance.now() - this.last3d > 150) {
      Plotly.react(this.el.surface3d, this.surfaceTraces(runs), this.surfaceLayout(), CONFIG);
      this.last3d = performance.now();
    }
  }

  // The steps to draw that are not drawn yet, thinned to keep at most MAX_DRAWN per path.
  takeFresh(run) {
    if (run.steps.length > MAX_DRAWN * run.stride) return []; // redraw() will re-thin it
    const points = [];
    for (let n = run.drawn; n < run.steps.length; n++) {
      if (n % run.stride === 0) points.push(run.steps[n]);
    }
    run.drawn = run.steps.length;
    return points;
  }

  needsRethin(run) {
    return run.steps.length > MAX_DRAWN * run.stride;
  }

  decimate(run) {
    while (run.steps.length > MAX_DRAWN * run.stride) run.stride *= 2;
    run.drawn = run.steps.length;
  }

  drawnSteps(run) {
    const points = run.steps.filter((_, n) => n % run.stride === 0);
    const last = run.steps[run.steps.length - 1];
    if (last && points[points.length - 1] !== last) points.push(last);
    return points;
  }

  setLogCost(on) {
    this.logCost = on;
  }

  canLogCost() {
    return this.surface && this.surface.min_value !== null;
  }

  costValue(f) {
    if (!this.logCost || !this.canLogCost()) return f;
    return Math.max(f - this.surface.min_value, 1e-16);
  }

  // --- figures ---------------------------------------------------------------------

  contourTraces(runs) {
    const s = this.surface;
    const traces = [{
      type: "contour", x: this.grid.x, y: this.grid.y, z: this.zColor, colorscale: SCALE,
      ncontours: 28, contours: { coloring: "heatmap", showlines: true },
      line: { color: "rgba(255,255,255,0.55)", width: 0.6 }, hoverinfo: "skip",
      colorbar: { thickness: 10, len: 0.8, title: { text: s.log_color ? "log₁₀(f−f*+1)" : "f", side: "right" } },
    }, {
      type: "scatter", mode: "markers+text", x: s.minima.map((m) => m[0]),
      y: s.minima.map((m) => m[1]), text: s.minima_values.map((f) => (Math.abs(f - s.min_value) < 1e-9 ? "global min" : "min")),
      textposition: "bottom center", textfont: { size: 11, color: "#1f2937" },
      marker: { symbol: "star", size: 13, color: "#fde047", line: { color: "#1f2937", width: 1 } },
      name: "minima", hovertemplate: "minimum (%{x:.4g}, %{y:.4g})<extra></extra>",
    }];
    for (const run of runs) {
      const drawn = this.drawnSteps(run);
      const last = run.steps[run.steps.length - 1];
      traces.push({
        type: "scatter", mode: "lines+markers", x: drawn.map((p) => p.x), y: drawn.map((p) => p.y),
        line: { color: run.color, width: 2 }, marker: { color: run.color, size: 4 },
        name: `run ${run.id}`, hovertemplate: `run ${run.id}: (%{x:.4g}, %{y:.4g})<extra></extra>`,
      }, {
        type: "scatter", mode: "markers+text", x: [run.start[0]], y: [run.start[1]], text: ["start"],
        textposition: "top center", textfont: { color: run.color, size: 12 },
        marker: { size: 15, color: "#ffffff", line: { color: run.color, width: 3 } },
        name: `start ${run.id}`, hovertemplate: "start: drag me<extra></extra>",
      }, {
        type: "scatter", mode: "markers", x: last ? [last.x] : [], y: last ? [last.y] : [],
        marker: { size: 11, color: run.color, line: { color: "#111827", width: 1.5 } },
        name: `now ${run.id}`, hovertemplate: "current point<extra></extra>",
      });
    }
    return traces;
  }

  contourLayout(runs, focus) {
    const [xr, yr] = this.surface.domain;
    return {
      margin: { l: 45, r: 10, t: 10, b: 35 }, font: FONT, showlegend: false, dragmode: false,
      xaxis: { range: xr, fixedrange: true, title: { text: "x", standoff: 4 }, zeroline: false },
      yaxis: { range: yr, fixedrange: true, title: { text: "y", standoff: 4 }, zeroline: false },
      annotations: this.annotations(runs, focus), hovermode: "closest",
    };
  }

  // The gradient at the focused run's current point (uphill ∇f and the step −lr·∇f),
  // and a red mark where a diverged run left the plot.
  annotations(runs, focus) {
    const notes = [];
    const [xr, yr] = this.surface.domain;
    for (const run of runs) {
      const last = run.steps[run.steps.length - 1];
      if (!last) continue;
      if (run.state === "diverged") {
        notes.push({ x: clamp(last.x, xr), y: clamp(last.y, yr), text: "✕ diverged",
          showarrow: false, font: { color: "#b91c1c", size: 13 }, bgcolor: "rgba(255,255,255,0.85)" });
        continue;
      }
      if (run.id !== focus) continue;
      const [gx, gy] = last.g;
      const norm = Math.hypot(gx, gy);
      if (!(norm > 0)) continue;
      const unit = 0.1 * this.span / norm;
      notes.push(...arrow(last.x, last.y, last.x + gx * unit, last.y + gy * unit, "#6b7280", "∇f uphill"));
      const lr = run.lr;
      const stepX = last.x - lr * gx;
      const stepY = last.y - lr * gy;
      if (Math.hypot(stepX - last.x, stepY - last.y) > 1e-3 * this.span) {
        notes.push(...arrow(last.x, last.y, stepX, stepY, "#111827", "−lr·∇f"));
      }
    }
    return notes;
  }

  surfaceTraces(runs) {
    const traces = [{
      type: "surface", x: this.grid.x, y: this.grid.y, z: this.zColor, colorscale: SCALE,
      showscale: false, opacity: 0.92, hoverinfo: "skip",
      contours: { z: { show: true, usecolormap: true, width: 1, project: { z: false } } },
    }];
    const { lo, hi } = this.zBounds();
    const lift = 0.01 * (hi - lo);
    const [[x0, x1], [y0, y1]] = this.surface.domain;
    for (const run of runs) {
      // Only what lies over the plotted domain: a diverging path must not rescale the view.
      const drawn = this.drawnSteps(run).filter((p) => p.x >= x0 && p.x <= x1 && p.y >= y0 && p.y <= y1);
      traces.push({
        type: "scatter3d", mode: "lines+markers", x: drawn.map((p) => p.x), y: drawn.map((p) => p.y),
        z: drawn.map((p) => Math.min(this.colorValue(p.f), hi) + lift), line: { color: run.color, width: 5 },
        marker: { size: 2, color: run.color }, hoverinfo: "skip",
      });
    }
    return traces;
  }

  zBounds() {
    if (!this.bounds) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const row of this.zColor) for (const z of row) { lo = Math.min(lo, z); hi = Math.max(hi, z); }
      this.bounds = { lo, hi };
    }
    return this.bounds;
  }

  surfaceLayout() {
    const [xr, yr] = this.surface.domain;
    return {
      margin: { l: 0, r: 0, t: 0, b: 0 }, font: FONT, showlegend: false, uirevision: this.surface.name,
      scene: {
        xaxis: { range: xr, title: { text: "x" } }, yaxis: { range: yr, title: { text: "y" } },
        zaxis: { title: { text: this.surface.log_color ? "log f" : "f" },
          range: [this.zBounds().lo, this.zBounds().hi + 0.05 * (this.zBounds().hi - this.zBounds().lo)] },
        camera: { eye: { x: 1.5, y: -1.5, z: 1.1 } }, aspectmode: "cube",
      },
    };
  }

  costTraces(runs) {
    return runs.map((run) => ({
      type: "scatter", mode: "lines", x: this.drawnSteps(run).map((p) => p.i),
      y: this.drawnSteps(run).map((p) => this.costValue(p.f)), line: { color: run.color, width: 2 },
      name: `run ${run.id}`,
    }));
  }

  costLayout() {
    const log = this.logCost && this.canLogCost();
    return {
      margin: { l: 70, r: 10, t: 8, b: 38 }, font: FONT, showlegend: false,
      xaxis: { title: { text: "step", standoff: 2 }, rangemode: "tozero" },
      yaxis: { title: { text: log ? "f − f*  (log)" : "f(x, y)" }, type: log ? "log" : "linear",
        exponentformat: "power" },
    };
  }
}

function clamp(v, [lo, hi]) {
  const pad = 0.03 * (hi - lo);
  return Math.min(Math.max(v, lo + pad), hi - pad);
}

// An arrow from (x0, y0) to (x1, y1) with its label at the tip.
function arrow(x0, y0, x1, y1, color, label) {
  return [
    { x: x1, y: y1, ax: x0, ay: y0, xref: "x", yref: "y", axref: "x", ayref: "y", text: "",
      showarrow: true, arrowhead: 2, arrowsize: 1.1, arrowwidth: 2.2, arrowcolor: color },
    { x: x1, y: y1, xref: "x", yref: "y", text: label, showarrow: false,
      font: { color, size: 11 }, bgcolor: "rgba(255,255,255,0.75)", xshift: 4, yshift: 10 },
  ];
}
