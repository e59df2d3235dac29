// The surface lab: one state table, mirrored in the URL hash, driving the socket and the plots.
import { attachPointer } from "./drag.js";
import { num, speedLabel } from "./format.js";
import { ACCENTS, LabPlots } from "./plots.js";
import { Socket } from "./socket.js";

const SPEEDS = [1, 2, 5, 10, 20, 30, 60, 120, 250, 500, 1000, 2000, 5000, 0];
const MAX_STEPS = 20000;
const $ = (id) => document.getElementById(id);

const state = {
  surfaces: {}, surface: null, optimizer: "gd", lr: 0.01, speed: 60, logCost: false,
  runs: [], focus: null, playing: false, error: "", dirty: false, structural: false,
  received: 0,
};
window.gdviz = { state }; // for tests and the curious

const plots = new LabPlots($("contour"), $("surface3d"), $("cost"));
const socket = new Socket("/ws/descent", onMessage, (s) => {
  if (s === "open" && state.surface) sendStart(!state.playing);
});

// --- runs ---------------------------------------------------------------------------

let nextRun = 0;
function newRun(start) {
  const id = String.fromCharCode(97 + (nextRun % 26)) + (nextRun >= 26 ? nextRun : "");
  const color = ACCENTS[nextRun % ACCENTS.length];
  nextRun += 1;
  return { id, color, start: [...start], steps: [], drawn: 0, stride: 1, state: "paused",
    reason: "", lr: state.lr };
}

function sendStart(paused) {
  for (const run of state.runs) Object.assign(run, { steps: [], drawn: 0, stride: 1, lr: state.lr });
  state.playing = !paused;
  state.error = "";
  socket.send({
    type: "start", surface: state.surface.name, max_steps: MAX_STEPS, speed: state.speed,
    paused, runs: state.runs.map((r) => ({ id: r.id, start: r.start, optimizer: state.optimizer, lr: state.lr })),
  });
  state.structural = true;
  schedule();
  saveHash();
}

// --- server messages -----------------------------------------------------------------

function onMessage(message) {
  const run = state.runs.find((r) => r.id === message.run);
  if (message.type === "error") {
    state.error = message.message;
  } else if (message.type === "steps" && run) {
    if (message.steps[0].i === 0) {
      Object.assign(run, { steps: [], drawn: 0, stride: 1 });
      state.structural = true;
    }
    for (const step of message.steps) {
      run.steps.push(step);
      if (step.lr !== null) run.lr = step.lr;
    }
    state.received += message.steps.length;
    if (plots.needsRethin(run)) state.structural = true;
  } else if (message.type === "status" && run) {
    run.state = message.state;
    run.reason = message.reason || "";
    state.playing = state.runs.some((r) => r.state === "running");
  }
  schedule();
}

// --- drawing, once per animation frame ----------------------------------------------

let frameRequested = false;
function schedule() {
  if (!frameRequested) {
    frameRequested = true;
    requestAnimationFrame(frame);
  }
}

function frame() {
  frameRequested = false;
  if (!state.surface || !plots.grid) return;
  if (state.structural) {
    state.structural = false;
    plots.redraw(state.runs, state.focus);
  } else {
    plots.extend(state.runs, state.focus);
  }
  renderStatus();
}

function renderStatus() {
  const lines = state.runs.map((run) => {
    const s = run.steps[run.steps.length - 1];
    if (!s) return `run ${run.id}: waiting for the server…`;
    const norm = Math.hypot(s.g[0], s.g[1]);
    const why = run.reason ? `: ${run.reason}` : "";
    return `<span style="color:${run.color}">●</span> run ${run.id}  step ${s.i}  f = ${num(s.f)}  ` +
      `|∇f| = ${num(norm, 3)}  step lr·|∇f| = ${num(run.lr * norm, 3)}  ` +
      `<span class="${run.state}">${run.state}</span>${why}`;
  });
  if (state.error) lines.push(`<span class="diverged">error: ${escapeHtml(state.error)}</span>`);
  $("status").innerHTML = lines.join("\n");
  $("step-count").textContent = Math.max(0, ...state.runs.map((r) => (r.steps.at(-1) || { i: 0 }).i));
  $("play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
  $("play").setAttribute("aria-label", state.playing ? "Pause" : "Play");
  renderRunList();
}

function renderRunList() {
  const list = $("runs");
  const key = state.runs.map((r) => r.id).join();
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...state.runs.map((run) => {
    const item = document.createElement("li");
    item.innerHTML = `<span class="swatch" style="background:${run.color}"></span>run ${run.id}`;
    const remove = document.createElement("button");
    remove.textContent = "×";
    remove.title = `remove run ${run.id}`;
    remove.disabled = state.runs.length === 1;
    remove.addEventListener("click", () => removeRun(run.id));
    item.append(remove);
    return item;
  }));
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
}

// --- controls ----------------------------------------------------------------------

async function loadSurface(name, starts = null, lr = null) {
  const surface = state.surfaces[name];
  state.surface = surface;
  state.lr = lr ?? surface.default_lr;
  nextRun = 0;
  state.runs = (starts && starts.length ? starts : [surface.default_start]).map(newRun);
  state.focus = state.runs[0].id;
  $("surface-select").value = name;
  $("surface-title").textContent = surface.title;
  $("surface-formula").textContent = surface.formula;
  $("surface-description").textContent = surface.description;
  showLr();
  const grid = await (await fetch(`/api/surfaces/${name}/grid?n=120`)).json();
  plots.setSurface(surface, grid);
  $("log-cost").disabled = !plots.canLogCost();
  sendStart(true);
}

function showLr() {
  $("lr").value = Math.log10(state.lr);
  $("lr-value").textContent = num(state.lr, 3);
}

function togglePlay() {
  const live = state.runs.some((r) => r.state === "running" || r.state === "paused");
  if (!live) sendStart(false);
  else {
    socket.send({ type: state.playing ? "pause" : "resume" });
    state.playing = !state.playing;
  }
  schedule();
}

function stepOnce() {
  if (state.playing) {
    socket.send({ type: "pause" });
    state.playing = false;
  }
  socket.send({ type: "step", n: 1 });
}

function removeRun(id) {
  state.runs = state.runs.filter((r) => r.id !== id);
  if (state.focus === id) state.focus = state.runs[0].id;
  sendStart(!state.playing);
}

function wireControls() {
  $("surface-select").addEventListener("change", (e) => loadSurface(e.target.value));
  $("optimizer").addEventListener("change", (e) => {
    state.optimizer = e.target.value;
    sendStart(!state.playing);
  });
  $("lr").addEventListener("input", (e) => {
    state.lr = Number((10 ** Number(e.target.value)).toPrecision(3));
    $("lr-value").textContent = num(state.lr, 3);
    socket.send({ type: "set", lr: state.lr });
    saveHash();
  });
  $("speed").addEventListener("input", (e) => {
    state.speed = SPEEDS[Number(e.target.value)];
    $("speed-value").textContent = speedLabel(state.speed);
    socket.send({ type: "set", speed: state.speed });
    saveHash();
  });
  $("log-cost").addEventListener("change", (e) => {
    plots.setLogCost(e.target.checked);
    state.structural = true;
    schedule();
  });
  $("play").addEventListener("click", togglePlay);
  $("step").addEventListener("click", stepOnce);
  $("reset").addEventListener("click", () => sendStart(true));
  document.addEventListener("keydown", (e) => {
    const tag = e.target.tagName;
    const typing = ["SELECT", "TEXTAREA"].includes(tag) || (tag === "INPUT" && e.target.type !== "range");
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    // Space on a focused button clicks it; → on a focused slider moves it: leave those alone.
    if (e.code === "Space" && tag !== "BUTTON") { e.preventDefault(); togglePlay(); }
    if (e.code === "ArrowRight" && e.target.type !== "range") { e.preventDefault(); stepOnce(); }
  });
  attachPointer($("contour"), {
    starts: () => state.runs.map((r) => [r.id, r.start]),
    onDrag: (id, x, y) => moveStart(id, x, y),
    onDrop: (id, x, y) => moveStart(id, x, y, true),
    onClick: (x, y) => {
      if (state.runs.length >= 16) { state.error = "at most 16 runs at once"; schedule(); return; }
      const run = newRun([x, y]);
      state.runs.push(run);
      state.focus = run.id;
      sendStart(false); // a new run starts moving at once, as a dragged start does
    },
  });
}

// Dragging sends at most one `move` per animation frame; the drop always sends.
let pendingMove = null;
function moveStart(id, x, y, final = false) {
  const run = state.runs.find((r) => r.id === id);
  run.start = [x, y];
  state.focus = id;
  pendingMove = { type: "move", run: id, start: [x, y] };
  if (final) flushMove();
  else requestAnimationFrame(flushMove);
  state.playing = true;
  saveHash();
}

function flushMove() {
  if (pendingMove) socket.send(pendingMove);
  pendingMove = null;
}

// --- the URL hash: every setting, so a view can be shared by link ---------------------

function saveHash() {
  if (!state.surface) return;
  const starts = state.runs.map((r) => r.start.map((v) => Number(v.toPrecision(4))).join(",")).join(";");
  const params = new URLSearchParams({ surface: state.surface.name, optimizer: state.optimizer,
    lr: String(state.lr), speed: String(state.speed), starts });
  history.replaceState(null, "", `#${params}`);
}

function readHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  const finite = (v) => v !== null && v !== "" && Number.isFinite(Number(v));
  const starts = (params.get("starts") || "").split(";").map((p) => p.split(",").map(Number))
    .filter((p) => p.length === 2 && p.every(Number.isFinite)).slice(0, 16);
  return {
    surface: params.get("surface"), optimizer: params.get("optimizer"),
    lr: finite(params.get("lr")) && Number(params.get("lr")) > 0 ? Number(params.get("lr")) : null,
    speed: finite(params.get("speed")) ? Number(params.get("speed")) : null, starts,
  };
}

async function main() {
  const list = await (await fetch("/api/surfaces")).json();
  for (const s of list) {
    state.surfaces[s.name] = s;
    $("surface-select").add(new Option(s.title, s.name));
  }
  const saved = readHash();
  if (saved.optimizer && $("optimizer").querySelector(`option[value="${saved.optimizer}"]`)) {
    state.optimizer = saved.optimizer;
  }
  $("optimizer").value = state.optimizer;
  if (saved.speed !== null && SPEEDS.includes(saved.speed)) state.speed = saved.speed;
  $("speed").value = SPEEDS.indexOf(state.speed);
  $("speed-value").textContent = speedLabel(state.speed);
  wireControls();
  const name = state.surfaces[saved.surface] ? saved.surface : "himmelblau";
  await loadSurface(name, saved.starts, saved.lr);
}

main();
