// The surface lab: the state table, what each control does, the server's messages, and one
// draw per animation frame with whatever steps arrived since the last one.

import { perFrame } from "../common/frames.js";
import { Socket } from "../common/socket.js";
import { transportActions } from "../common/transport.js";
import { BasinMap } from "./basins.js";
import { newSeed, runSeed, SCATTER_DEFAULT, scatterStarts } from "./scatter.js";
import { fillSurfaces, showControls, showTransport, wireControls } from "./controls.js";
import { DirectionalView } from "./directional.js";
import { attachPointer } from "./drag.js";
import {
  checkFormula,
  customSurface,
  DEFAULT_DOMAIN,
  EXAMPLE,
  readDomain,
  showDomain,
  showDerivatives,
  showFormulaError,
  surfaceQuery,
  wireFormula,
} from "./formula.js";
import { lastStep } from "./paths.js";
import { LabPlots } from "./plots.js";
import { applyPresenter, presenterWanted } from "./presenter.js";
import { clearSteps, createState, MAX_RUNS, newRun, readHash, saveHash } from "./state.js";
import { StabilityHint } from "./stability.js";
import { renderRunList, renderStatus } from "./status.js";
import { Views } from "./views.js";

const MAX_STEPS = 20000;
const $ = (id) => document.getElementById(id);

const state = createState();
window.gdviz = { state }; // for tests and the curious

const plots = new LabPlots({
  field: $("contour-field"),
  contour: $("contour"),
  surface3d: $("surface3d"),
  cost: $("cost"),
});
const schedule = perFrame(frame); // frame(): below, hoisted
const views = new Views(state, plots, { schedule, redraw: redrawAll, addRun });
window.gdviz.views = views;
const directional = new DirectionalView(
  $("directional"),
  $("direction-dial"),
  $("directional-caption"),
);
const stability = new StabilityHint($("stability"), (lr) => {
  setLr(lr);
  showControls(state);
});
const basins = new BasinMap($("contour-field"), showBasinStatus);
window.gdviz.basins = basins;
const basinSettings = () => ({
  surface: state.surface,
  optimizer: state.optimizer,
  lr: state.lr,
});
const socket = new Socket("/ws/descent", onMessage, (status) => {
  if (status === "closed") state.error = "connection to the server lost: reconnecting…";
  if (status === "reopened" && state.surface) sendStart(!state.playing);
  schedule();
});

// --- talking to the server ----------------------------------------------------------------

/** (Re)start every run from its start point; `paused` shows step 0 and waits for play. */
function sendStart(paused) {
  views.archive(state.runs); // finished paths stay, faded, until cleared
  for (const run of state.runs) clearSteps(run, state.lr);
  state.playing = !paused;
  state.error = "";
  socket.send({
    type: "start",
    surface: state.surface.name,
    max_steps: MAX_STEPS,
    speed: state.speed,
    paused,
    ...(state.surface.name === "custom"
      ? { formula: state.surface.text, domain: state.surface.domain }
      : {}),
    runs: state.runs.map((r, k) => ({
      id: r.id,
      start: r.start,
      optimizer: r.optimizer || state.optimizer,
      lr: state.lr,
      seed: runSeed(state.seed, k),
    })),
  });
  redrawAll();
  saveHash(state);
}

function onMessage(message) {
  if (message.type === "error") {
    state.error = message.message;
  } else {
    const run = state.runs.find((r) => r.id === message.run);
    if (!run) return; // a removed run, still finishing on the server
    if (message.type === "steps") receiveSteps(run, message.steps);
    if (message.type === "status") {
      run.state = message.state;
      run.reason = message.reason || "";
      state.playing = state.runs.some((r) => r.state === "running");
    }
  }
  schedule();
}

function receiveSteps(run, steps) {
  if (!steps.length) return;
  if (steps[0].i === 0) {
    Object.assign(run, { steps: [], drawn: 0, stride: 1 });
    redrawAll();
  } else if (run.steps.length === 0) {
    return; // the tail of a run that was restarted meanwhile: its step 0 is on the way
  }
  for (const step of steps) {
    run.steps.push(step);
    if (step.lr !== null) run.lr = step.lr;
  }
}

// --- drawing, once per animation frame ----------------------------------------------------

let structural = false;

function redrawAll() {
  structural = true;
  schedule();
}

function frame() {
  if (plots.field && state.runs.length) {
    if (structural) plots.redraw(state.runs, state.focus);
    else plots.extend(state.runs, state.focus);
    structural = false;
    views.frame();
  }
  renderStatus($("status"), state);
  renderRunList($("runs"), state, { onRemove: removeRun, onFocus: focusRun });
  showTransport(state, Math.max(0, ...state.runs.map((r) => lastStep(r)?.i ?? 0)));
  explainPoint();
}

/** The directional-derivative plot and the stability hint follow the focus run's point. */
function explainPoint() {
  const run = state.runs.find((r) => r.id === state.focus);
  const step = run && lastStep(run);
  if (!step || !state.surface) return;
  const marked = views.links.current(); // a hovered or replayed step, when there is one
  directional.update((marked ? marked.step : step).g);
  const surface = state.surface;
  const urlAt = (x, y) =>
    `/api/surfaces/${encodeURIComponent(surface.name)}/eval?x=${x}&y=${y}${surfaceQuery(surface)}`;
  const ended = run.state !== "running" && run.state !== "paused";
  const key = `${surface.name}|${surface.text || ""}`;
  stability.follow(urlAt, key, step, ended, state, surface.minima);
}

// --- what the controls do -------------------------------------------------------------------

let loading = 0;

/** Show a surface with one run at its default start (or the given starts), paused. */
async function loadSurface(name, starts = [], lr = null, optimizers = []) {
  const surface = state.surfaces[name];
  const ticket = ++loading;
  const query = surfaceQuery(surface);
  const response = await fetch(`/api/surfaces/${encodeURIComponent(name)}/grid?n=120${query}`);
  if (!response.ok) {
    state.error = `could not load ${surface.title}: the server answered ${response.status}`;
    schedule();
    return;
  }
  const grid = await response.json();
  if (ticket !== loading) return; // another surface was chosen meanwhile
  if (!grid.z.some((row) => row.some((z) => z !== null))) {
    showFormulaError("f is not defined anywhere on this domain: try another domain");
    if (state.surface) showControls(state);
    return false;
  }
  Object.assign(state, { surface, lr: lr ?? surface.default_lr, nextRun: 0 });
  const points = starts.length ? starts : [surface.default_start];
  state.runs = points.map((p) => newRun(state, clampToDomain(surface, p)));
  state.runs.forEach((run, k) => (run.optimizer = optimizers[k] || null));
  state.focus = state.runs[0].id;
  $("surface-title").textContent = surface.title;
  $("surface-formula").textContent = surface.formula;
  $("surface-description").textContent = surface.description;
  showDerivatives(surface);
  plots.setSurface(surface, grid);
  basins.fieldRedrawn();
  basins.update(basinSettings(), 0);
  $("log-cost").disabled = !plots.canLogCost();
  $("log-cost").parentElement.title = plots.canLogCost() ? "" : "this surface has no lowest value";
  showControls(state);
  sendStart(true);
}

function clampToDomain(surface, [x, y]) {
  const [[x0, x1], [y0, y1]] = surface.domain;
  return [Math.min(Math.max(x, x0), x1), Math.min(Math.max(y, y0), y1)];
}

const live = () => state.runs.some((r) => r.state === "running" || r.state === "paused");

const transport = transportActions({
  state,
  socket,
  live,
  restart: () => sendStart(false),
  redraw: schedule,
});

function togglePlay() {
  if (state.surface) transport.togglePlay();
}

function setLr(lr) {
  state.lr = lr;
  for (const run of state.runs) run.lr = lr; // the lr the next step will use
  socket.send({ type: "set", lr });
  basins.update(basinSettings());
  saveHash(state);
  schedule();
}

function setSpeed(speed) {
  state.speed = speed;
  socket.send({ type: "set", speed });
  saveHash(state);
}

function setOptimizer(name) {
  state.optimizer = name;
  basins.update(basinSettings());
  sendStart(!state.playing); // every run starts again with the new optimizer
}

function setLogCost(on) {
  state.logCost = on;
  plots.setLogCost(on);
  redrawAll();
  saveHash(state);
}

function addRun(x, y, optimizer = null) {
  if (state.runs.length >= MAX_RUNS) {
    state.error = `at most ${MAX_RUNS} runs at once: remove one first (×)`;
    schedule();
    return;
  }
  const run = newRun(state, [x, y]);
  run.optimizer = optimizer; // null: the page's optimizer
  state.runs.push(run);
  state.focus = run.id;
  sendStart(false); // all runs start together, so the race between them is fair
}

function removeRun(id) {
  if (state.runs.length === 1) return;
  state.runs = state.runs.filter((r) => r.id !== id); // its messages are ignored from now on
  if (state.focus === id) state.focus = state.runs[0].id;
  redrawAll();
  saveHash(state);
}

function focusRun(id) {
  state.focus = id;
  redrawAll();
}

// Dragging a start sends at most one `move` per animation frame; the drop always sends.
let pendingMove = null;
let dragging = null;

function moveStart(id, x, y, final = false) {
  const run = state.runs.find((r) => r.id === id);
  if (!run) return;
  if (dragging !== id) views.archive([run]); // once per drag: the path before it
  dragging = final ? null : id;
  run.start = [x, y];
  state.focus = id;
  state.playing = true;
  if (!pendingMove && !final) requestAnimationFrame(flushMove);
  pendingMove = { type: "move", run: id, start: [x, y] };
  if (final) {
    flushMove();
    saveHash(state);
  }
  redrawAll();
}

function flushMove() {
  if (pendingMove) socket.send(pendingMove);
  pendingMove = null;
}

/** Check `text` on the server; show it as the "custom" surface, or say what is wrong. */
async function applyFormula(text, domain = DEFAULT_DOMAIN, starts = [], lr = null, opts = []) {
  $("formula").value = text;
  showDomain(domain);
  const { info, error } = await checkFormula(text, domain);
  if (error) {
    showFormulaError(error);
    return false;
  }
  showFormulaError("");
  state.surfaces.custom = customSurface(text, info);
  return (await loadSurface("custom", starts, lr, opts)) !== false;
}

// --- the basin map ----------------------------------------------------------------------------

/** A click on the basin map runs the focused run from that cell's start, as a drag would. */
function runFromCell(x, y) {
  const [cx, cy] = basins.snap(x, y);
  moveStart(state.focus, cx, cy, true);
}

function showBasinStatus({ state: where, text }) {
  const box = $("basins-status");
  box.hidden = where === "off";
  box.textContent = text;
  box.className = `basins-status ${where}`;
}

// --- scatter N starts --------------------------------------------------------------------------

/** Replace the runs by N from random points, all running at once, with a fresh seed. */
function scatter() {
  if (!state.surface) return;
  const asked = Math.round(Number($("scatter-n").value));
  const n = Math.min(Math.max(Number.isFinite(asked) ? asked : SCATTER_DEFAULT, 1), MAX_RUNS);
  $("scatter-n").value = String(n);
  state.seed = newSeed();
  state.nextRun = 0;
  state.runs = scatterStarts(state.surface.domain, n, state.seed).map((p) => newRun(state, p));
  state.focus = state.runs[0].id;
  sendStart(false);
}

// --- start-up --------------------------------------------------------------------------------

/** Apply the settings in the URL hash (on load, or when someone edits the link). */
async function applyHash() {
  const saved = readHash(location.hash);
  if (saved.optimizer) state.optimizer = saved.optimizer;
  if (saved.speed !== null) state.speed = saved.speed;
  state.seed = saved.seed ?? state.seed ?? newSeed();
  state.logCost = saved.logCost;
  plots.setLogCost(saved.logCost);
  state.embed = presenterWanted(location);
  applyPresenter(state.embed);
  const fallback = state.surfaces.himmelblau ? "himmelblau" : Object.keys(state.surfaces)[0];
  if (saved.surface === "custom" && saved.formula) {
    const domain = saved.domain || DEFAULT_DOMAIN;
    const opts = saved.runOptimizers;
    if (await applyFormula(saved.formula, domain, saved.starts, saved.lr, opts)) return;
  }
  const name =
    state.surfaces[saved.surface] && saved.surface !== "custom" ? saved.surface : fallback;
  await loadSurface(name, saved.starts, saved.lr, saved.runOptimizers);
}

async function main() {
  const response = await fetch("/api/surfaces");
  if (!response.ok) throw new Error(`GET /api/surfaces answered ${response.status}`);
  const list = await response.json();
  for (const s of list) state.surfaces[s.name] = s;
  fillSurfaces(list);
  $("surface-select").add(new Option("Your formula", "custom"));
  wireFormula((text, domain) => applyFormula(text, domain));
  wireControls({
    selectSurface: (name) =>
      name === "custom" ? selectCustom() : (showFormulaError(""), loadSurface(name)),
    setOptimizer,
    setLr,
    setSpeed,
    setLogCost,
    togglePlay,
    stepOnce: transport.stepOnce,
    reset: () => state.surface && sendStart(true),
  });
  $("basins").addEventListener("change", (e) => basins.toggle(e.target.checked, basinSettings()));
  $("scatter").addEventListener("click", scatter);
  attachPointer($("contour"), {
    starts: () => state.runs.map((r) => [r.id, r.start]),
    onDrag: (id, x, y) => moveStart(id, x, y),
    onDrop: (id, x, y) => moveStart(id, x, y, true),
    onClick: (x, y) => (basins.on ? runFromCell(x, y) : addRun(x, y)),
  });
  window.addEventListener("hashchange", applyHash);
  await applyHash();
}

/** "Your formula" in the select: the field's formula, or an example when it is empty. */
async function selectCustom() {
  const text = $("formula").value.trim() || EXAMPLE;
  const domain = readDomain($("formula-domain").value) || DEFAULT_DOMAIN;
  if (!(await applyFormula(text, domain)) && state.surface) showControls(state); // the shown one
}

main().catch((error) => {
  $("status").textContent =
    `The lab could not start: ${error.message}. Is the gdviz server running?`;
  console.error(error);
});
