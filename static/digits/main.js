// The digit lab: train the network over /ws/train, watch its cost fall, draw a digit for it.
import { num } from "../lab/format.js";
import { Socket } from "../lab/socket.js";
import { Curves } from "./charts.js";
import { diverging, DrawingPad, grayInk, paint } from "./draw.js";

const $ = (id) => document.getElementById(id);
const FONT = { family: "system-ui, sans-serif", size: 11, color: "#374151" };

const state = {
  training: false, paused: false, live: false, info: null, lastStep: null, lastEval: null,
  prediction: null, error: "",
};
window.gdviz = { state }; // for tests and the curious

let classifying = false; // one classify request in flight at a time
let classifyAgain = false; // the drawing changed meanwhile: ask again when it answers
const curves = new Curves($("cost"), $("accuracy"));
const pad = new DrawingPad($("draw"), () => classify());
const socket = new Socket("/ws/train", onMessage, (s) => {
  if (s !== "open") classifying = false; // a request in flight or queued will never be answered
  if (s === "reopened" && state.training) {
    state.training = false;
    state.live = false;
    say("the connection to the server dropped: press Train to start again");
    showButtons();
  }
});

// --- settings -------------------------------------------------------------------------

function hiddenSizes() {
  const sizes = $("hidden").value.trim().split(/[\s,]+/).filter(Boolean).map(Number);
  if (!sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 512) || sizes.length > 4) return null;
  return sizes;
}

function showParameterCount() {
  const hidden = hiddenSizes();
  if (!hidden) {
    $("param-count").textContent = "—";
    return;
  }
  const sizes = [784, ...hidden, 10];
  let count = 0;
  for (let k = 1; k < sizes.length; k++) count += sizes[k - 1] * sizes[k] + sizes[k];
  $("param-count").textContent = count.toLocaleString("en-US");
}

function lrFromSlider() {
  return Number((10 ** Number($("lr").value)).toPrecision(3));
}

function settings() {
  const hidden = hiddenSizes();
  if (!hidden) throw new Error("hidden sizes: up to 4 whole numbers between 1 and 512, e.g. 16 16");
  const whole = (id, lo, hi) => {
    const v = Number($(id).value);
    if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${id}: a whole number from ${lo} to ${hi}`);
    return v;
  };
  return {
    type: "start", hidden, activation: $("activation").value, cost: $("cost-fn").value,
    optimizer: $("optimizer").value, lr: lrFromSlider(), batch_size: whole("batch-size", 1, 60000),
    epochs: whole("epochs", 1, 1000), seed: whole("seed", 0, 4294967295),
    shuffle_labels: $("shuffle-labels").checked,
  };
}

// --- server messages -----------------------------------------------------------------

function onMessage(m) {
  if (m.type === "error") {
    state.error = m.message;
    say(`⚠ ${m.message}`, true);
    classifyAnswered();
  } else if (m.type === "status") {
    onStatus(m);
  } else if (m.type === "progress") {
    curves.progress(m.steps, state.info.train);
    state.lastStep = m.steps[m.steps.length - 1];
  } else if (m.type === "eval") {
    if (state.info) curves.evaluation(m, state.info.train);
    state.lastEval = m;
    if (pad.inked) classify(); // watch the answer improve as the network learns
  } else if (m.type === "weights") {
    showWeights(m);
  } else if (m.type === "classified") {
    showPrediction(m);
    classifyAnswered();
  } else if (m.type === "saved") {
    say(`saved (test accuracy ${(100 * m.test_accuracy).toFixed(1)} %): POST /api/mnist/classify now uses it`);
  }
  schedule();
}

function onStatus(m) {
  if (m.state === "loading") {
    const of = m.total ? ` ${Math.round((100 * m.done) / m.total)} %` : "";
    say(`${m.message}${of}`);
    return;
  }
  if (m.state === "running" && m.total_steps !== undefined) {
    state.info = m;
    state.live = true;
    curves.addRun(m);
    $("data-source").textContent = `data: ${m.source} — ${m.train.toLocaleString("en-US")} train / ${m.test.toLocaleString("en-US")} test`;
  }
  state.paused = m.state === "paused";
  state.training = m.state === "running" || m.state === "paused";
  if (m.state === "finished") $("progress-bar").style.width = "100%";
  if (m.state === "finished") say(`finished: test accuracy ${(100 * m.test_accuracy).toFixed(1)} % after ${m.step.toLocaleString("en-US")} steps`);
  if (m.state === "stopped") say(m.message || "stopped");
  showButtons();
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
  curves.draw();
  if (state.training && state.info && state.lastStep) {
    const s = state.lastStep;
    const total = state.info.epochs * state.info.train;
    $("progress-bar").style.width = `${Math.min(100, (100 * s.samples_seen) / total)}%`;
    const accuracy = state.lastEval && state.lastEval.test_accuracy !== null
      ? ` · test accuracy ${(100 * state.lastEval.test_accuracy).toFixed(1)} %` : "";
    say(`${state.paused ? "paused" : "training"}: epoch ${s.epoch.toFixed(2)} / ${state.info.epochs} · ` +
      `step ${s.step.toLocaleString("en-US")} · batch cost ${num(s.cost, 3)}${accuracy}`);
  }
}

function say(text, isError = false) {
  $("train-status").textContent = text;
  $("train-status").style.color = isError ? "#b91c1c" : "";
}

function showButtons() {
  $("train").textContent = state.training ? "↺ Restart" : "▶ Train";
  $("pause").disabled = !state.training;
  $("pause").textContent = state.paused ? "▶ Resume" : "❚❚ Pause";
  $("stop").disabled = !state.training;
  $("save").disabled = !state.live;
}

function showWeights(m) {
  const container = $("weights");
  while (container.children.length < m.images.length) container.append(document.createElement("canvas"));
  const color = diverging(Math.max(Math.abs(m.min), Math.abs(m.max)));
  m.images.forEach((image, k) => paint(container.children[k], image, m.size, color));
}

function showPrediction(m) {
  state.prediction = m;
  $("prediction").textContent = String(m.digit);
  $("prediction-by").textContent = m.by === "saved" ? "by the saved network" : "by the network training now";
  paint($("seen"), m.input, 28, grayInk);
  const colors = m.probabilities.map((_, d) => (d === m.digit ? "#f97316" : "#94a3b8"));
  Plotly.react($("probabilities"), [{ type: "bar", x: [...Array(10).keys()].map(String), y: m.probabilities,
    marker: { color: colors }, hovertemplate: "%{x}: %{y:.1%}<extra></extra>" }],
  { margin: { l: 35, r: 5, t: 18, b: 22 }, font: FONT, title: { text: "output probabilities", font: { size: 11 }, x: 0.02 },
    yaxis: { range: [0, 1], tickformat: ".0%" }, xaxis: { type: "category" } }, { displayModeBar: false });
  const bars = [];
  m.activations.forEach((layer, k) => layer.forEach((a, n) => bars.push({ x: `${k + 1}.${n + 1}`, a, k })));
  Plotly.react($("activations"), [{ type: "bar", x: bars.map((b) => b.x), y: bars.map((b) => b.a),
    marker: { color: bars.map((b) => (b.k % 2 ? "#2563eb" : "#0891b2")) },
    hovertemplate: "hidden layer %{x}: %{y:.2f}<extra></extra>" }],
  { margin: { l: 35, r: 5, t: 18, b: 8 }, font: FONT, title: { text: "hidden activations (layer.neuron)", font: { size: 11 }, x: 0.02 },
    xaxis: { showticklabels: false, type: "category" }, yaxis: { rangemode: "tozero" } }, { displayModeBar: false });
}

// --- classifying ----------------------------------------------------------------------

function classify() {
  if (!pad.inked) {
    say("draw a digit on the black square first", true);
    return;
  }
  // One request at a time: evaluations come many times a second, and a queue of canvases
  // would delay every other message (a Stop, say) behind them.
  if (classifying) {
    classifyAgain = true;
    return;
  }
  classifying = true;
  // The socket answers with the live network, or else the saved one, or says there is none.
  socket.send({ type: "classify", ...pad.gray8() });
}

function classifyAnswered() {
  classifying = false;
  if (classifyAgain) {
    classifyAgain = false;
    classify();
  }
}

// --- controls -------------------------------------------------------------------------

function wire() {
  $("train").addEventListener("click", () => {
    try {
      socket.send(settings());
      state.error = "";
      say("starting…");
    } catch (problem) {
      say(`⚠ ${problem.message}`, true);
    }
  });
  $("pause").addEventListener("click", () => socket.send({ type: state.paused ? "resume" : "pause" }));
  $("stop").addEventListener("click", () => socket.send({ type: "stop" }));
  $("save").addEventListener("click", () => socket.send({ type: "save" }));
  $("lr").addEventListener("input", () => {
    const lr = lrFromSlider();
    $("lr-value").textContent = num(lr, 3);
    if (state.training) socket.send({ type: "set", lr });
  });
  $("hidden").addEventListener("input", showParameterCount);
  $("log-cost").addEventListener("change", (e) => curves.setLog(e.target.checked));
  $("clear-curves").addEventListener("click", () => {
    curves.reset();
    if (state.training && state.info) curves.addRun(state.info); // the running one keeps drawing
  });
  $("classify").addEventListener("click", () => classify());
  $("clear").addEventListener("click", () => {
    pad.clear();
    state.prediction = null;
    $("prediction").textContent = "?";
    $("prediction-by").textContent = "draw a digit";
  });
}

async function main() {
  wire();
  $("lr").value = Math.log10(3);
  $("lr-value").textContent = num(lrFromSlider(), 3);
  showParameterCount();
  showButtons();
  const info = await (await fetch("/api/mnist/dataset")).json();
  $("data-source").textContent = info.cached
    ? `data: ${info.source} — ${info.train.toLocaleString("en-US")} train / ${info.test.toLocaleString("en-US")} test`
    : "data: not downloaded yet (fetched when you press Train)";
}

main();
