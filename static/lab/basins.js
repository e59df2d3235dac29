// The basin map: every start of a grid coloured by the minimum its run reaches (grey: not
// settled within the map's step limit, dark: diverged), as a heatmap beneath the contour lines
// of the field layer. The server computes it (GET /api/surfaces/{name}/basins) for the current
// surface, optimizer and learning rate; changes are debounced and a newer request aborts an
// older one, so only the latest settings are ever drawn.

import { surfaceQuery } from "./formula.js";

export const BASIN_N = 100; // starts per axis on the page (the route allows up to 200)
export const BASIN_STEPS = 1000; // each start's step limit
const DEBOUNCE_MS = 250;
// The server refuses these (422): a random run has no single end, so the page does not ask.
const RANDOM = new Set(["langevin", "annealing"]);
const UNSETTLED = "#9ca3af";
const DIVERGED = "#1f2937";
// Soft, distinct colours for the minima, so the contour lines and the runs stay readable.
const MINIMA = [
  "#fdba74", "#93c5fd", "#86efac", "#f9a8d4", "#c4b5fd", "#67e8f9", "#fde047", "#fca5a5",
  "#a5b4fc", "#6ee7b7", "#d8b4fe", "#fda4af", "#5eead4", "#bef264", "#f0abfc", "#fcd34d",
]; // prettier-ignore

export class BasinMap {
  /** `field`: the contour's field layer; `onChange(status)` hears "computing", "shown", … */
  constructor(field, onChange) {
    this.el = field;
    this.onChange = onChange;
    this.on = false;
    this.map = null; // the last map drawn: {x, y, minimum, steps, minima}
    this.timer = null;
    this.request = null; // the AbortController of the request under way
    this.status = { state: "off", text: "" };
  }

  /** Show or hide the map; showing computes it for `settings`. */
  toggle(on, settings) {
    this.on = on;
    if (on) this.update(settings, 0);
    else {
      this.cancel();
      this.remove();
      this.report("off", "");
    }
  }

  /** The settings changed ({surface, optimizer, lr}): recompute after a pause in the changes. */
  update(settings, delay = DEBOUNCE_MS) {
    if (!this.on || !settings.surface) return;
    this.cancel();
    if (RANDOM.has(settings.optimizer)) {
      this.remove();
      this.report(
        "error",
        `no basin map for ${settings.optimizer}: a random optimizer has no single end per ` +
          "start, so a basin map needs a deterministic optimizer",
      );
      return;
    }
    this.report("computing", "computing the basin map…");
    this.timer = setTimeout(() => this.compute(settings), delay);
  }

  /** The field layer was drawn anew (a new surface): the map goes with the old one. */
  fieldRedrawn() {
    this.map = null;
  }

  cancel() {
    clearTimeout(this.timer);
    this.timer = null;
    if (this.request) this.request.abort();
    this.request = null;
  }

  async compute({ surface, optimizer, lr }) {
    const request = new AbortController();
    this.request = request;
    const params = new URLSearchParams({
      n: String(BASIN_N),
      optimizer,
      lr: String(lr),
      max_steps: String(BASIN_STEPS),
    });
    const began = performance.now();
    let map;
    try {
      const name = encodeURIComponent(surface.name);
      const url = `/api/surfaces/${name}/basins?${params}${surfaceQuery(surface)}`;
      const response = await fetch(url, { signal: request.signal });
      const body = await response.json();
      if (!response.ok) throw new Error(body.detail || `the server answered ${response.status}`);
      map = body;
    } catch (error) {
      if (request.signal.aborted) return; // newer settings took over
      this.request = null;
      this.report("error", `no basin map: ${error.message}`);
      return;
    }
    if (request !== this.request || !this.on) return;
    this.request = null;
    this.draw(map, surface);
    const seconds = (performance.now() - began) / 1000;
    this.report("shown", describe(map, seconds));
  }

  draw(map, surface) {
    map.slots = colorSlots(map, surface);
    const trace = heatmapTrace(map);
    if (this.map) Plotly.deleteTraces(this.el, 0);
    Plotly.addTraces(this.el, trace, 0); // beneath the contour, which now draws lines only
    Plotly.restyle(this.el, { "contours.coloring": "lines", "line.width": 1 }, [1]);
    this.map = map;
  }

  remove() {
    if (!this.map) return;
    Plotly.deleteTraces(this.el, 0);
    Plotly.restyle(this.el, { "contours.coloring": "heatmap", "line.width": 0.6 }, [0]);
    this.map = null;
  }

  /** The grid start nearest (x, y): a click on a cell runs from exactly that cell's start. */
  snap(x, y) {
    if (!this.map) return [x, y];
    const nearest = (values, v) =>
      values.reduce((best, w) => (Math.abs(w - v) < Math.abs(best - v) ? w : best));
    return [nearest(this.map.x, x), nearest(this.map.y, y)];
  }

  /** Where the start (x, y) ends on the map: "minimum k", "unsettled" or "diverged". */
  cellAt(x, y) {
    if (!this.map) return null;
    const i = this.map.x.indexOf(x);
    const j = this.map.y.indexOf(y);
    if (i < 0 || j < 0) return null;
    return { minimum: this.map.minimum[j][i], steps: this.map.steps[j][i] };
  }

  report(state, text) {
    this.status = { state, text };
    this.onChange(this.status);
  }
}

/** Colour slot k ≥ 0 is a minimum's; −1 unsettled (grey); −2 diverged (dark). */
export function basinColor(slot) {
  if (slot === -1) return UNSETTLED;
  if (slot === -2) return DIVERGED;
  return MINIMA[slot % MINIMA.length];
}

/**
 * The colour slot of each minimum found: a surface's listed minimum keeps one colour whatever
 * the optimizer or lr (its index in the list); minima found beyond the list take the next.
 */
function colorSlots(map, surface) {
  const [[x0, x1]] = surface.domain;
  const near = 0.01 * (x1 - x0);
  const listed = surface.minima || [];
  let next = listed.length;
  const taken = new Set();
  return map.minima.map(([x, y]) => {
    const m = listed.findIndex(([a, b]) => Math.hypot(a - x, b - y) < near);
    if (m >= 0 && !taken.has(m)) {
      taken.add(m);
      return m;
    }
    return next++;
  });
}

function heatmapTrace(map) {
  const count = map.minima.length;
  // z = code + 2: 0 diverged, 1 unsettled, 2… the minima; one flat band of colour per value
  const top = count + 1;
  const colorscale = [];
  for (let v = 0; v <= top; v++) {
    const color = basinColor(v < 2 ? v - 2 : map.slots[v - 2]);
    colorscale.push([v / (top + 1), color], [(v + 1) / (top + 1), color]);
  }
  return {
    type: "heatmap",
    x: map.x,
    y: map.y,
    z: map.minimum.map((row) => row.map((code) => code + 2)),
    zmin: -0.5, // value v sits in the middle of its band [v, v + 1) / (top + 1)
    zmax: top + 0.5,
    colorscale,
    showscale: false,
    opacity: 0.85,
    hoverinfo: "skip",
    name: "basins",
  };
}

function describe(map, seconds) {
  let unsettled = 0;
  let diverged = 0;
  let cells = 0;
  for (const row of map.minimum) {
    for (const code of row) {
      cells += 1;
      if (code === -1) unsettled += 1;
      if (code === -2) diverged += 1;
    }
  }
  const share = (k) => `${((100 * k) / cells).toFixed(k && k < cells / 100 ? 1 : 0)} %`;
  const minima = map.minima.length === 1 ? "1 minimum" : `${map.minima.length} minima`;
  return (
    `basins of ${map.x.length}×${map.y.length} starts: ${minima}, ` +
    `${share(unsettled)} not settled in ${BASIN_STEPS.toLocaleString("en")} steps (grey), ` +
    `${share(diverged)} diverged (dark) · ${seconds.toFixed(1)} s` +
    hint(unsettled / cells, diverged / cells)
  );
}

/** What to change when most of the map says nothing (all grey or all dark). */
function hint(unsettledShare, divergedShare) {
  if (divergedShare >= 0.5) return " — most starts diverge: try a smaller learning rate";
  if (unsettledShare >= 0.5) {
    return ` — most starts need more than ${BASIN_STEPS.toLocaleString("en")} steps: try a larger learning rate`;
  }
  return "";
}
