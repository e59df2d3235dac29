// History (issue 11, item 6): every live learning-rate change marked where it took effect — a
// labelled vertical line on the cost curve, a small diamond on the path — and the paths of
// finished runs kept, faded, after the runs start again, until "Clear" removes them. On the
// cost plot all of it is layout shapes, so its traces stay one per run.

import { num } from "../common/format.js";
import { costShapeY, heightOf } from "./coords.js";
import { inDomain } from "./field.js";

export const LR_MARKS = "gdviz-lr"; // the path's diamonds (one trace for all runs)
export const GHOST = "gdviz-ghost"; // a faded finished path (one trace each)
export const MAX_GHOSTS = 24;
const MAX_GHOST_POINTS = 600;
const FINISHED = ["converged", "diverged", "max_steps", "stopped"];
const LABEL_GAP = 0.04; // a change is labelled when the next one is this share of the axis away

export class RunHistory {
  constructor(state, plots) {
    Object.assign(this, { state, plots });
    this.ghosts = []; // {run, color, key, optimizer, lr, steps: [{i, x, y, f}]}
    this.archived = new WeakSet(); // steps arrays already kept, so a path is kept once
    this.scans = new WeakMap(); // steps array → {scanned, changes}: scanned once, not per frame
    this.shown = null;
  }

  surfaceKey() {
    const s = this.state.surface;
    return s ? `${s.name}|${s.text || ""}|${JSON.stringify(s.domain)}` : "";
  }

  /** Keep the path of each finished run among `runs` (they are about to start again). */
  archive(runs) {
    for (const run of runs) {
      if (!FINISHED.includes(run.state) || run.steps.length < 2) continue;
      if (this.archived.has(run.steps)) continue;
      this.archived.add(run.steps);
      const stride = Math.ceil(run.steps.length / MAX_GHOST_POINTS);
      const steps = run.steps.filter((_, n) => n % stride === 0 || n === run.steps.length - 1);
      this.ghosts.push({
        run: run.id,
        color: run.color,
        key: this.surfaceKey(),
        optimizer: run.optimizer || this.state.optimizer,
        state: run.state,
        steps: steps.map(({ i, x, y, f }) => ({ i, x, y, f })),
      });
    }
    this.ghosts = this.ghosts.slice(-MAX_GHOSTS);
  }

  clear() {
    this.ghosts = [];
  }

  /** The kept paths of the surface on show (another surface's are dropped). */
  visibleGhosts() {
    const key = this.surfaceKey();
    this.ghosts = this.ghosts.filter((g) => g.key === key);
    return this.ghosts;
  }

  /** Each run's lr changes, scanning only the steps that arrived since the last call. */
  changes(run) {
    let scan = this.scans.get(run.steps);
    if (!scan) {
      scan = { scanned: 2, changes: [] };
      this.scans.set(run.steps, scan);
    }
    for (let n = scan.scanned; n < run.steps.length; n++) {
      if (run.steps[n].lr !== run.steps[n - 1].lr) scan.changes.push(run.steps[n]);
    }
    scan.scanned = Math.max(scan.scanned, run.steps.length);
    return scan.changes;
  }

  allChanges() {
    return this.state.runs.map((run) => ({ run, changes: this.changes(run) }));
  }

  key(all) {
    return all.map(({ run, changes }) => `${run.id}:${changes.length}`).join() + this.plots.logCost;
  }

  // --- drawing ----------------------------------------------------------------------------------

  /** Add the kept paths and the lr marks to a figure about to be drawn. */
  decorate(name, figure) {
    const all = this.allChanges();
    if (name === "contour") {
      for (const ghost of this.visibleGhosts()) figure.data.push(ghostPath(ghost));
      figure.data.push(this.pathMarks(all));
    }
    if (name === "cost") this.shown = this.key(all);
    if (name === "surface3d") {
      for (const ghost of this.visibleGhosts()) figure.data.push(this.ghost3d(ghost));
    }
  }

  /** A kept path on the 3-D surface, faded, with a gap where it left the domain. */
  ghost3d(ghost) {
    const field = this.plots.field;
    const height = heightOf(field);
    const x = [];
    const y = [];
    const z = [];
    for (const s of ghost.steps) {
      const inside = inDomain(field, s.x, s.y);
      x.push(inside ? s.x : null), y.push(inside ? s.y : null), z.push(inside ? height(s) : null);
    }
    return {
      type: "scatter3d",
      name: GHOST,
      mode: "lines",
      x,
      y,
      z,
      connectgaps: false,
      opacity: 0.4,
      line: { color: ghost.color, width: 3 },
      hoverinfo: "skip",
    };
  }

  /** Once per frame: when a run took a new lr, show it on the path; true: the cost plot too. */
  frame() {
    const all = this.allChanges();
    const key = this.key(all);
    if (key === this.shown) return false;
    this.shown = key;
    const contour = document.getElementById("contour");
    const index = (contour.data || []).findIndex((t) => t.name === LR_MARKS);
    if (index >= 0) {
      const marks = this.pathMarks(all);
      const update = { x: [marks.x], y: [marks.y], text: [marks.text] };
      update["marker.color"] = [marks.marker.color];
      update["textfont.color"] = [marks.textfont.color];
      Plotly.restyle(contour, update, [index]);
    }
    return true;
  }

  pathMarks(all) {
    const x = [];
    const y = [];
    const text = [];
    const colors = [];
    for (const { run, changes } of all) {
      const labelled = labelledSet(changes, lastIndex(this.state.runs));
      for (const s of changes) {
        x.push(s.x), y.push(s.y), colors.push(run.color);
        text.push(labelled.has(s) ? `lr ${num(s.lr, 3)}` : "");
      }
    }
    return {
      type: "scatter",
      name: LR_MARKS,
      mode: "markers+text",
      x,
      y,
      text,
      textposition: "middle right",
      textfont: { size: 10, color: colors },
      marker: { symbol: "diamond", size: 9, color: colors, line: { color: "#ffffff", width: 1 } },
      cliponaxis: false,
      hoverinfo: "skip",
    };
  }

  /** The cost plot's kept paths and a dotted vertical line per lr change, labelled. */
  costLayout() {
    const all = this.allChanges();
    const shapes = this.visibleGhosts().map((ghost) => this.ghostCost(ghost));
    const annotations = [];
    for (const { run, changes } of all) {
      const labelled = labelledSet(changes, lastIndex(this.state.runs));
      for (const s of changes) {
        shapes.push({
          type: "line",
          xref: "x",
          yref: "paper",
          x0: s.i,
          x1: s.i,
          y0: 0,
          y1: 1,
          line: { color: run.color, width: 1.2, dash: "dot" },
        });
        if (labelled.has(s))
          annotations.push({
            x: s.i,
            xref: "x",
            y: 1,
            yref: "paper",
            yanchor: "top",
            xanchor: "left",
            text: `lr ${num(s.lr, 3)}`,
            showarrow: false,
            font: { size: 10, color: run.color },
            bgcolor: "rgba(255,255,255,0.8)",
          });
      }
    }
    return { shapes, annotations };
  }

  /** A kept cost curve as an SVG path shape (beneath the live curves). */
  ghostCost(ghost) {
    const { field, logCost } = this.plots;
    const y = (s) => costShapeY(field, s.f, logCost);
    const path = ghost.steps.map((s, n) => `${n ? "L" : "M"}${s.i},${y(s)}`).join("");
    return {
      type: "path",
      name: GHOST,
      path,
      xref: "x",
      yref: "y",
      layer: "below",
      line: { color: ghost.color, width: 1.5 },
      opacity: 0.4,
    };
  }
}

function ghostPath(ghost) {
  return {
    type: "scatter",
    name: GHOST,
    mode: "lines",
    x: ghost.steps.map((s) => s.x),
    y: ghost.steps.map((s) => s.y),
    line: { color: ghost.color, width: 1.5, dash: "dot" },
    opacity: 0.45,
    hoverinfo: "skip",
  };
}

function lastIndex(runs) {
  return Math.max(1, ...runs.map((r) => r.steps.length));
}

/** The changes worth a label: those the next change does not follow too closely. */
function labelledSet(changes, span) {
  const labelled = new Set();
  changes.forEach((s, n) => {
    const next = changes[n + 1];
    if (!next || next.i - s.i >= LABEL_GAP * span) labelled.add(s);
  });
  return labelled;
}
