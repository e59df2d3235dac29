// The 1-D page: one ball on one curve. The server runs the descent (/ws/descent with a
// "curve"); the page keeps the steps, draws once per animation frame and explains the step.

import { escapeHtml, num } from "../common/format.js";
import { lrToSlider, sliderToLr } from "../common/slider.js";
import { perFrame } from "../common/frames.js";
import { Socket } from "../common/socket.js";
import { transportActions } from "../common/transport.js";
import { explainStep, recentSteps } from "./explain.js";
import { drawCurve, pointerX, ranges } from "./plot.js";

const SPEEDS = [1, 2, 5, 10, 30, 0]; // steps per second; 0 = as fast as the server goes
const MAX_STEPS = 5000;
const $ = (id) => document.getElementById(id);

const state = {
  curves: {},
  curve: null,
  grid: null,
  range: null,
  lr: 0.01,
  optimizer: "gd",
  seed: 0, // the noisy optimizers' seed: in the link, so a run replays exactly
  speed: 5,
  start: 0,
  steps: [],
  runState: "paused",
  reason: "",
  playing: false,
  error: "",
};
window.gdviz = { state }; // for tests and the curious
const schedule = perFrame(frame); // frame(): below, hoisted

const socket = new Socket("/ws/descent", onMessage, (status) => {
  if (status === "closed") state.error = "connection to the server lost: reconnecting…";
  if (status === "reopened" && state.curve) sendStart(!state.playing);
  schedule();
});

// --- the server -------------------------------------------------------------------------------

function sendStart(paused) {
  state.steps = [];
  state.playing = !paused;
  state.error = "";
  socket.send({
    type: "start",
    curve: state.curve.name,
    max_steps: MAX_STEPS,
    speed: state.speed,
    paused,
    runs: [{ id: "a", start: state.start, optimizer: state.optimizer, lr: state.lr, seed: state.seed }],
  });
  saveHash();
  schedule();
}

function onMessage(message) {
  if (message.type === "error") state.error = message.message;
  if (message.type === "steps") {
    if (message.steps[0].i === 0) state.steps = [];
    else if (!state.steps.length) return; // the tail of a run restarted meanwhile
    state.steps.push(...message.steps);
  }
  if (message.type === "status") {
    state.runState = message.state;
    state.reason = message.reason || "";
    state.playing = message.state === "running";
  }
  schedule();
}

// --- drawing ------------------------------------------------------------------------------------


function frame() {
  if (!state.grid) return;
  const ball = state.steps[state.steps.length - 1] || null;
  drawCurve($("curve"), { ...state, steps: state.steps });
  explainStep($("explain-step"), ball, state.lr, state.optimizer);
  renderStatus(ball);
  const label = state.playing ? "Pause" : "Play";
  if ($("play").dataset.label !== label) {
    $("play").dataset.label = label;
    $("play").innerHTML = `<span aria-hidden="true">${state.playing ? "❚❚" : "▶"}</span> ${label}`;
    $("play").classList.toggle("playing", state.playing);
  }
  $("step-count").textContent = String(ball ? ball.i : 0);
}

function renderStatus(ball) {
  const lines = [];
  if (ball) {
    lines.push(
      `step <b>${ball.i}</b> · x = <b>${num(ball.x, 6)}</b> · f(x) = <b>${num(ball.f, 5)}</b>` +
        ` · f′(x) = <b>${num(ball.g, 4)}</b> · lr = <b>${num(state.lr, 3)}</b>`,
    );
    const lengths = recentSteps(state.steps);
    if (lengths.length) {
      lines.push(`last step lengths: ${lengths.map((d) => num(d, 3)).join(", ")}`);
    }
  }
  const words = { max_steps: "stopped", paused: "paused", running: "running" };
  const reason = state.reason ? `: ${escapeHtml(state.reason)}` : "";
  lines.push(`<b class="${state.runState}">${words[state.runState] || state.runState}</b>${reason}`);
  if (state.error) lines.push(`<span class="error">error: ${escapeHtml(state.error)}</span>`);
  $("status").innerHTML = lines.map((l) => `<div>${l}</div>`).join("");
}

// --- the controls -----------------------------------------------------------------------------

async function loadCurve(name, start = null, lr = null) {
  const curve = state.curves[name];
  const response = await fetch(`/api/curves/${encodeURIComponent(name)}/grid?n=400`);
  if (!response.ok) throw new Error(`GET the ${name} grid answered ${response.status}`);
  const grid = await response.json();
  const [x0, x1] = curve.domain;
  Object.assign(state, {
    curve,
    grid,
    range: ranges(curve, grid),
    lr: lr ?? curve.default_lr,
    start: start !== null && start >= x0 && start <= x1 ? start : curve.default_start,
  });
  $("curve-select").value = name;
  $("curve-title").textContent = curve.title;
  $("curve-formula").textContent = curve.formula;
  $("curve-description").textContent = curve.description;
  $("lr").value = lrToSlider(state.lr);
  $("lr-value").textContent = num(state.lr, 3);
  sendStart(true);
}

const live = () => state.runState === "running" || state.runState === "paused";

const { togglePlay, stepOnce } = transportActions({
  state,
  socket,
  live,
  restart: () => sendStart(false),
  redraw: schedule,
});

function moveBall(x) {
  state.start = x;
  state.steps = [];
  state.playing = true;
  socket.send({ type: "move", run: "a", start: x });
  saveHash();
  schedule();
}

function saveHash() {
  const params = new URLSearchParams({
    curve: state.curve.name,
    lr: String(state.lr),
    start: String(Number(state.start.toPrecision(5))),
    optimizer: state.optimizer,
    seed: String(state.seed),
  });
  history.replaceState(null, "", `#${params}`);
}

function wire() {
  $("curve-select").addEventListener("change", (e) => loadCurve(e.target.value));
  $("optimizer").addEventListener("change", (e) => {
    state.optimizer = e.target.value;
    sendStart(!state.playing);
  });
  $("lr").addEventListener("input", (e) => {
    state.lr = sliderToLr(e.target.value);
    $("lr-value").textContent = num(state.lr, 3);
    socket.send({ type: "set", lr: state.lr });
    saveHash();
    schedule();
  });
  $("speed").addEventListener("input", (e) => {
    state.speed = SPEEDS[Number(e.target.value)];
    $("speed-value").textContent = state.speed ? `${state.speed} steps/s` : "max";
    socket.send({ type: "set", speed: state.speed });
  });
  $("play").addEventListener("click", togglePlay);
  $("step").addEventListener("click", stepOnce);
  $("reset").addEventListener("click", () => state.curve && sendStart(true));
  $("curve").addEventListener("pointerdown", (event) => {
    const x = pointerX($("curve"), event);
    if (x === null || event.button > 0) return;
    event.preventDefault();
    const [x0, x1] = state.curve.domain;
    moveBall(Math.min(Math.max(x, x0), x1));
  });
  document.addEventListener("keydown", (e) => {
    const tag = e.target.tagName;
    if (tag === "SELECT" || tag === "BUTTON" || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.code === "Space") {
      e.preventDefault();
      togglePlay();
    } else if (e.code === "ArrowRight" && e.target.type !== "range") {
      e.preventDefault();
      stepOnce();
    }
  });
}

async function main() {
  const response = await fetch("/api/curves");
  if (!response.ok) throw new Error(`GET /api/curves answered ${response.status}`);
  for (const c of await response.json()) {
    state.curves[c.name] = c;
    $("curve-select").add(new Option(c.title, c.name));
  }
  wire();
  const saved = new URLSearchParams(location.hash.replace(/^#/, ""));
  const name = state.curves[saved.get("curve")] ? saved.get("curve") : "double_well";
  const number = (key) => (saved.get(key) && Number.isFinite(+saved.get(key)) ? +saved.get(key) : null);
  const lr = number("lr");
  const optimizers = [...$("optimizer").options].map((o) => o.value);
  if (optimizers.includes(saved.get("optimizer"))) state.optimizer = saved.get("optimizer");
  const seed = number("seed");
  state.seed = Number.isInteger(seed) && seed >= 0 ? seed : Math.floor(Math.random() * 2 ** 31);
  $("optimizer").value = state.optimizer;
  await loadCurve(name, number("start"), lr !== null && lr >= 1e-4 && lr <= 1 ? lr : null);
}

main().catch((error) => {
  $("status").textContent = `The page could not start: ${error.message}. Is gdviz running?`;
  console.error(error);
});
