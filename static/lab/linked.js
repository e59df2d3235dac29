// Linked views (issue 11, item 6): one step of one run — hovered on the contour, the 3-D view
// or the cost curve, or picked on the timeline — is marked on all three plots at once, with
// its numbers in a readout. Pointer moves are only recorded here; the lab's frame (one per
// animation frame) finds the step and moves the markers, so a fast mouse costs one update
// per frame however many events it fires.

import { num } from "../common/format.js";
import { plotAxes } from "../common/pointer.js";
import { costShapeY, heightOf } from "./coords.js";
import { inDomain } from "./field.js";
import { drawnSteps } from "./paths.js";

export const MARK = "gdviz-mark"; // the marker trace's name on each plot
export const STEPS_3D = "gdviz-steps3d"; // the 3-D view's hoverable iterates
const HOVER_PX = 14; // how near (in pixels) the pointer must come to a step on the contour
// Software WebGL redraws the whole 3-D scene for one moved marker (~100–300 ms here), so the
// 3-D mark follows at most this often, and always once after the last move; the 2-D marks
// move every frame.
const MARK_3D_EVERY_MS = 250;

/** The index of the trace called `name` on a Plotly plot, or -1. */
export function traceIndex(gd, name) {
  return (gd.data || []).findIndex((t) => t.name === name);
}

export class LinkedViews {
  /** `el`: {contour, cost, surface3d, readout}; `schedule` asks the lab for a frame. */
  constructor(state, plots, el, schedule) {
    Object.assign(this, { state, plots, el, schedule });
    this.hover = null; // {run, i} under the pointer
    this.pinned = null; // {run, i} chosen on the timeline
    this.pointer = null; // the newest pointer event not yet looked at
    this.points3d = []; // {run, i} of each hoverable point in the 3-D view
    this.shown = null; // the key of the mark the plots show
    this.updates = 0; // how many times the marks moved (the tests count frames with it)
    this.hooked3d = null;
    this.last3d = 0;
    this.timer3d = null;
    for (const name of ["contour", "cost"]) {
      el[name].addEventListener("pointermove", (e) => this.record({ plot: name, e }));
      el[name].addEventListener("pointerleave", () => this.record({ plot: name, leave: true }));
    }
  }

  record(pointer) {
    this.pointer = pointer;
    this.schedule();
  }

  /** The marked run and step (hover first, then the timeline's), or null. */
  current() {
    const at = this.hover || this.pinned;
    const run = at && this.state.runs.find((r) => r.id === at.run);
    const step = run && run.steps[at.i];
    return step ? { run, step } : null;
  }

  /** Once per animation frame: read the pointer, then move the marks if the step changed. */
  frame() {
    this.hook3d();
    if (this.pointer) {
      const p = this.pointer;
      this.pointer = null;
      if (p.leave) this.hover = null;
      else if (p.plot === "contour") this.hover = this.nearestOnContour(p.e);
      else if (p.plot === "cost") this.hover = this.nearestOnCost(p.e);
      else this.hover = p.at;
    }
    const mark = this.current();
    const key = mark ? `${mark.run.id}|${mark.step.i}|${mark.step.x}|${this.plots.logCost}` : "";
    if (key === this.shown) return false;
    this.shown = key;
    this.updates += 1;
    this.showReadout(mark);
    this.restyle(mark);
    return true; // the cost plot's mark (a shape) moves with the caller's relayout
  }

  // --- finding the step under the pointer ------------------------------------------------------

  nearestOnContour(e) {
    const gd = this.el.contour;
    const axes = plotAxes(gd, e);
    if (!axes) return null;
    const { xa, ya, px, py } = axes;
    let best = null;
    for (const run of this.state.runs) {
      for (const s of run.steps) {
        const d = Math.hypot(xa.c2p(s.x) - px, ya.c2p(s.y) - py);
        if (d <= HOVER_PX && (!best || d < best.d)) best = { d, run: run.id, i: s.i };
      }
    }
    return best && { run: best.run, i: best.i };
  }

  /** The step under the pointer's x, of the run whose curve passes nearest the pointer. */
  nearestOnCost(e) {
    const gd = this.el.cost;
    const axes = plotAxes(gd, e);
    if (!axes || !this.plots.field) return null;
    const { xa, ya, px, py } = axes;
    const i = Math.round(xa.p2c(px));
    let best = null;
    for (const run of this.state.runs) {
      const s = run.steps[Math.min(Math.max(i, 0), run.steps.length - 1)];
      if (!s) continue;
      const y = ya.c2p(costShapeY(this.plots.field, s.f, this.plots.logCost));
      const d = Number.isFinite(y) ? Math.abs(y - py) : Infinity;
      if (!best || d < best.d) best = { d, run: run.id, i: s.i };
    }
    return best && { run: best.run, i: best.i };
  }

  // The 3-D view's hover comes from Plotly (it alone knows the camera). Plotly.newPlot drops
  // a plot's listeners, so they are attached again whenever they are missing.
  hook3d() {
    const gd = this.el.surface3d;
    if (!gd._ev || this.hooked3d === gd._ev) return;
    this.hooked3d = gd._ev;
    gd.on("plotly_hover", (event) => {
      const point = event.points && event.points[0];
      if (!point || point.data.name !== STEPS_3D) return;
      this.record({ plot: "surface3d", at: this.points3d[point.pointNumber] || null });
    });
    gd.on("plotly_unhover", () => this.record({ plot: "surface3d", leave: true }));
  }

  // --- drawing ----------------------------------------------------------------------------------

  /** Add the mark (and the 3-D view's hoverable iterates) to a figure about to be drawn. */
  decorate(name, figure) {
    const mark = this.current();
    const at = mark ? [mark.step.x, mark.step.y] : [];
    if (name === "contour") figure.layout.shapes = this.ringLayout(mark, ...at).shapes;
    if (name === "surface3d") {
      figure.data.push(this.stepsTrace3d(), mark3dTrace(this.mark3d(mark)));
    }
  }

  restyle(mark) {
    const at = mark ? [mark.step.x, mark.step.y] : [];
    if (this.el.contour.data) Plotly.relayout(this.el.contour, this.ringLayout(mark, ...at));
    if (this.timer3d) return; // the pending 3-D update will show the newest mark
    const wait = MARK_3D_EVERY_MS - (performance.now() - this.last3d);
    if (wait <= 0) this.restyle3d();
    else this.timer3d = setTimeout(() => this.restyle3d(), wait);
  }

  restyle3d() {
    this.timer3d = null;
    this.last3d = performance.now();
    const gd = this.el.surface3d;
    const index = traceIndex(gd, MARK);
    if (index < 0) return;
    const points = this.mark3d(this.current());
    const update = { x: [points.x], y: [points.y], z: [points.z], text: [points.text] };
    update["marker.line.color"] = points.color;
    Plotly.restyle(gd, update, [index]);
  }

  /** The mark on the cost plot (the step against its cost). */
  costLayout() {
    const mark = this.current();
    if (!mark || !this.plots.field) return { shapes: [] };
    const y = costShapeY(this.plots.field, mark.step.f, this.plots.logCost);
    const layout = this.ringLayout(mark, mark.step.i, y);
    const ya = this.el.cost._fullLayout && this.el.cost._fullLayout.yaxis;
    if (ya && ya.type === "log" && ya._length) {
      // pixel offsets come out squashed on a log axis: give the ring's height in data units
      const decades = (8 * (ya.range[1] - ya.range[0])) / ya._length;
      const ring = layout.shapes[0];
      Object.assign(ring, { ysizemode: "scaled", y0: y / 10 ** decades, y1: y * 10 ** decades });
      delete ring.yanchor;
    }
    return layout;
  }

  /**
   * The mark on a 2-D plot: a ring of fixed pixel size, labelled, as a layout shape. Moving a
   * shape redraws only the shapes, where moving a trace's point recomputes the whole plot.
   */
  ringLayout(mark, x, y) {
    if (!mark) return { shapes: [] };
    const ring = {
      type: "circle",
      name: MARK,
      xref: "x",
      yref: "y",
      xsizemode: "pixel",
      ysizemode: "pixel",
      xanchor: x,
      yanchor: y,
      x0: -8,
      x1: 8,
      y0: -8,
      y1: 8,
      line: { color: mark.run.color, width: 3 },
      label: {
        text: `step ${mark.step.i}`,
        textposition: "bottom right",
        font: { size: 11, color: "#111827" },
      },
    };
    return { shapes: [ring] };
  }

  mark3d(mark) {
    const field = this.plots.field;
    if (!mark || !field || !inDomain(field, mark.step.x, mark.step.y)) {
      return { ...empty(), z: [] };
    }
    const z = heightOf(field)(mark.step);
    const { x, y, i } = mark.step;
    return { x: [x], y: [y], z: [z], text: [`step ${i}`], color: mark.run.color };
  }

  /** Every drawn iterate of every run as a small dot on the surface, for Plotly's 3-D hover. */
  stepsTrace3d() {
    const field = this.plots.field;
    const height = heightOf(field);
    const xs = [];
    const ys = [];
    const zs = [];
    const colors = [];
    this.points3d = [];
    for (const run of this.state.runs) {
      for (const s of drawnSteps(run)) {
        if (!inDomain(field, s.x, s.y)) continue;
        xs.push(s.x), ys.push(s.y), zs.push(height(s)), colors.push(run.color);
        this.points3d.push({ run: run.id, i: s.i });
      }
    }
    const text = this.points3d.map((p) => `run ${p.run}, step ${p.i}`);
    return {
      type: "scatter3d",
      name: STEPS_3D,
      mode: "markers",
      x: xs,
      y: ys,
      z: zs,
      text,
      marker: { size: 2.5, color: colors },
      hovertemplate: "%{text}<extra></extra>",
    };
  }

  showReadout(mark) {
    const el = this.el.readout;
    if (!mark) {
      el.hidden = true;
      el.textContent = "";
      return;
    }
    const { run, step } = mark;
    const cells = [
      `run ${run.id}`,
      `step ${step.i}`,
      `x = ${num(step.x)}`,
      `y = ${num(step.y)}`,
      `f = ${num(step.f)}`,
      `|∇f| = ${num(Math.hypot(step.g[0], step.g[1]), 3)}`,
      `lr = ${step.lr === null ? "— (start)" : num(step.lr, 3)}`,
    ];
    const swatch = `<span class="swatch" style="background:${run.color}"></span>`;
    el.innerHTML = swatch + cells.map((c) => `<span>${c}</span>`).join("");
    el.style.borderColor = run.color;
    el.hidden = false;
  }
}

function empty() {
  return { x: [], y: [], text: [], color: "#111827" };
}

function mark3dTrace(points) {
  return {
    type: "scatter3d",
    name: MARK,
    mode: "markers+text",
    x: points.x,
    y: points.y,
    z: points.z,
    text: points.text,
    textposition: "top center",
    textfont: { size: 11, color: "#111827" },
    marker: { size: 7, color: "#ffffff", line: { width: 3, color: points.color } },
    hoverinfo: "skip",
  };
}
