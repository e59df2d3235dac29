// The lab's plots together: Plotly.newPlot once per surface, Plotly.react when the runs change
// (reset, a dragged start, a new run), Plotly.extendTraces once per animation frame with the
// steps buffered since the last one. The 3-D view is the slowest to draw, so it follows at
// most four times a second.

import { exitNotes, fieldFigure, frameUpdate, liveFigure } from "./contour.js";
import { canLog, CostRange, costFigure, costValue } from "./cost.js";
import { makeField } from "./field.js";
import { freshSteps, needsRedraw, thin } from "./paths.js";
import { surfaceFigure } from "./surface3d.js";

const CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
const CONFIG_3D = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["toImage"] };
const SURFACE_EVERY_MS = 250;

export class LabPlots {
  /** `el`: the plot elements {field, contour, surface3d, cost}. */
  constructor(el) {
    this.el = el;
    this.field = null;
    this.logCost = false;
    this.fresh = true; // true until the plots of the current surface exist
    this.last3d = 0;
    this.timer3d = null;
    this.decorate = null; // (name, figure) => void: adds traces to a figure before it is drawn
  }

  setSurface(surface, grid) {
    this.field = makeField(surface, grid);
    const figure = fieldFigure(this.field);
    Plotly.newPlot(this.el.field, figure.data, figure.layout, CONFIG);
    this.fresh = true;
  }

  setLogCost(on) {
    this.logCost = on;
  }

  canLogCost() {
    return Boolean(this.field) && canLog(this.field);
  }

  /** Draw every run from scratch (after a reset, a move, a new or removed run). */
  redraw(runs, focus) {
    for (const run of runs) thin(run);
    const draw = this.fresh ? Plotly.newPlot : Plotly.react;
    const live = liveFigure(this.field, runs, focus, this.scale());
    this.decorate?.("contour", live);
    draw(this.el.contour, live.data, live.layout, CONFIG);
    this.notes = JSON.stringify(live.layout.annotations);
    this.costRange = new CostRange(this.field, this.logCost);
    for (const run of runs) this.costRange.add(run.steps);
    this.costKey = JSON.stringify(this.costRange.range());
    const cost = costFigure(this.field, runs, this.logCost, this.costRange.range());
    this.decorate?.("cost", cost);
    draw(this.el.cost, cost.data, cost.layout, CONFIG);
    this.schedule3d(runs);
    this.fresh = false;
  }

  /** Append the steps that arrived since the last frame; move the markers and arrows. */
  extend(runs, focus) {
    if (this.fresh || runs.some(needsRedraw)) return this.redraw(runs, focus);
    for (const run of runs) this.costRange.add(run.steps, run.drawn);
    const fresh = runs.map(freshSteps);
    const live = frameUpdate(this.field, runs, focus, fresh, this.scale());
    Plotly.extendTraces(this.el.contour, live.update, live.indices, live.maxPoints);
    const notes = exitNotes(this.field, runs);
    if (JSON.stringify(notes) !== this.notes) {
      this.notes = JSON.stringify(notes);
      Plotly.relayout(this.el.contour, { annotations: notes });
    }
    const growing = runs.map((_, k) => k).filter((k) => fresh[k].length);
    if (growing.length) {
      Plotly.extendTraces(
        this.el.cost,
        {
          x: growing.map((k) => fresh[k].map((p) => p.i)),
          y: growing.map((k) => fresh[k].map((p) => costValue(this.field, p.f, this.logCost))),
        },
        growing,
      );
      this.schedule3d(runs);
    }
    const range = this.costRange.range();
    if (JSON.stringify(range) !== this.costKey) {
      this.costKey = JSON.stringify(range);
      Plotly.relayout(this.el.cost, { "yaxis.range": range, "yaxis.autorange": false });
    }
  }

  /** Pixels per data unit on the contour's axes (the field layer has the same ones). */
  scale() {
    const layout = this.el.field._fullLayout;
    if (!layout || !layout.xaxis || !layout.xaxis._m) return null;
    return { x: Math.abs(layout.xaxis._m), y: Math.abs(layout.yaxis._m) };
  }

  // The 3-D view redraws at most every SURFACE_EVERY_MS, and always once after the last change.
  schedule3d(runs) {
    this.runs3d = runs;
    if (this.timer3d) return;
    const wait = Math.max(0, SURFACE_EVERY_MS - (performance.now() - this.last3d));
    if (wait === 0 || this.fresh) this.draw3d();
    else this.timer3d = setTimeout(() => this.draw3d(), wait);
  }

  draw3d() {
    clearTimeout(this.timer3d);
    this.timer3d = null;
    const figure = surfaceFigure(this.field, this.runs3d);
    this.decorate?.("surface3d", figure);
    const draw = this.fresh ? Plotly.newPlot : Plotly.react;
    draw(this.el.surface3d, figure.data, figure.layout, CONFIG_3D);
    this.last3d = performance.now();
  }
}
