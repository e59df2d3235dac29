// The cost view: f against step for every run, with axes always, and a log-y option that
// plots f − f* (how far above the minimum), which is what shrinks by orders of magnitude.

import { FONT } from "./field.js";
import { drawnSteps } from "./paths.js";

const FLOOR = 1e-16; // f − f* can reach 0 exactly; a log axis needs it positive

export function canLog(field) {
  return field.surface.min_value !== null;
}

export function costValue(field, f, log) {
  return log && canLog(field) ? Math.max(f - field.surface.min_value, FLOOR) : f;
}

export function costFigure(field, runs, log, range) {
  const data = runs.map((run) => {
    const drawn = drawnSteps(run);
    return {
      // dots while the path is short (step 0 alone is a single point), as on the contour
      type: "scatter",
      mode: run.dotted ? "lines+markers" : "lines",
      marker: { size: 4 },
      x: drawn.map((p) => p.i),
      y: drawn.map((p) => costValue(field, p.f, log)),
      line: { color: run.color, width: 2 },
      hovertemplate: `run ${run.id}, step %{x}: %{y:.4g}<extra></extra>`,
    };
  });
  const logAxis = log && canLog(field);
  const layout = {
    margin: { l: 64, r: 12, t: 10, b: 40 },
    font: FONT,
    showlegend: false,
    hovermode: "closest",
    xaxis: { title: { text: "step", standoff: 4 }, rangemode: "tozero", zeroline: false },
    yaxis: {
      title: { text: logAxis ? "f − f*" : "f(x, y)", standoff: 6 },
      type: logAxis ? "log" : "linear",
      exponentformat: "power",
      zeroline: false,
      ...(range ? { autorange: false, range } : { autorange: true }),
    },
  };
  return { data, layout };
}

/**
 * The cost plot's y range, from the lowest and highest f seen, but never beyond the surface's
 * lowest and highest values on the plot: a diverging run's cost runs off the edge, as its path
 * runs off the contour, instead of flattening every other curve to a line. The range
 * moves rarely (the bottom sits at f* or, on a log axis, on a power of ten), so it seldom
 * costs a relayout.
 */
export class CostRange {
  constructor(field, log) {
    this.field = field;
    this.log = log && canLog(field);
    this.lo = Infinity;
    this.hi = -Infinity;
  }

  add(steps, from = 0) {
    for (let n = from; n < steps.length; n++) {
      const f = steps[n].f;
      if (f < this.lo) this.lo = f;
      if (f > this.hi) this.hi = f;
    }
  }

  /** [bottom, top] in the axis's units (log10 on a log axis); null before any step. */
  range() {
    if (!Number.isFinite(this.lo)) return null;
    const best = this.field.surface.min_value;
    const bottom = best !== null ? Math.min(best, this.lo) : Math.max(this.lo, this.field.fMin);
    const top = Math.max(Math.min(this.hi, this.field.fMax), bottom);
    if (this.log) {
      const low = Math.floor(Math.log10(Math.max(this.lo - best, FLOOR))) - 0.25;
      const high = Math.log10(Math.max(top - best, FLOOR)) + 0.15;
      return [low, Math.max(high, low + 1)];
    }
    const span = top - bottom || Math.max(Math.abs(top), 1);
    return [bottom - 0.04 * span, top + 0.08 * span];
  }
}
