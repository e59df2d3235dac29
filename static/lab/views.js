// Linked views, history, timeline, per-run optimizers, presenter view and export (issue 11,
// items 6 and 7) wired to the lab in one place, so main.js only calls `frame()` once per
// animation frame, `archive()` before runs start again, and lets `decorate()` add their
// traces to each figure that LabPlots draws.

import { wireExport } from "./export.js";
import { RunHistory } from "./history.js";
import { LinkedViews } from "./linked.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);

export class Views {
  /** `actions`: {schedule, redraw, addRun(x, y, optimizer)} from the lab. */
  constructor(state, plots, actions) {
    this.state = state;
    this.actions = actions;
    this.links = new LinkedViews(
      state,
      plots,
      { contour: $("contour"), cost: $("cost"), surface3d: $("surface3d"), readout: $("readout") },
      actions.schedule,
    );
    this.history = new RunHistory(state, plots);
    this.timeline = new Timeline(
      { input: $("timeline"), output: $("timeline-value"), replay: $("replay") },
      state,
      this.links,
      actions.schedule,
    );
    plots.decorate = (name, figure) => this.decorate(name, figure);
    $("clear-history").addEventListener("click", () => {
      this.history.clear();
      actions.redraw();
    });
    $("add-run").addEventListener("click", () => this.raceFromFocus());
    wireExport(state);
  }

  /** A new run from the focused run's start with the optimizer chosen beside the button. */
  raceFromFocus() {
    const run = this.state.runs.find((r) => r.id === this.state.focus) || this.state.runs[0];
    if (!run) return;
    this.actions.addRun(run.start[0], run.start[1], $("run-optimizer").value);
  }

  archive(runs) {
    this.history.archive(runs);
  }

  decorate(name, figure) {
    this.history.decorate(name, figure);
    this.links.decorate(name, figure); // the mark last, on top of everything
    if (name === "cost") Object.assign(figure.layout, this.costLayout());
  }

  /** The cost plot's shapes and labels: kept paths, lr changes, then the mark. */
  costLayout() {
    const history = this.history.costLayout();
    const mark = this.links.costLayout();
    return { shapes: [...history.shapes, ...mark.shapes], annotations: history.annotations };
  }

  frame() {
    this.timeline.frame();
    const changed = this.history.frame();
    const moved = this.links.frame();
    const cost = $("cost");
    if ((changed || moved) && cost.data) Plotly.relayout(cost, this.costLayout());
    $("clear-history").disabled = this.history.visibleGhosts().length === 0;
  }
}
