// The digit lab: train the network over /ws/train, watch its cost fall, draw a digit for it.
// This file only wires the pieces together: the state table (state.js), the controls
// (settings.js), the socket conversation (session.js), the plots (charts.js), the drawing
// pad (draw.js), the answer panel (answer.js) and the status lines (status.js). What redraws
// when is frames.js's job: one panel per animation frame, the pad's ink and the clicks first.

import { count, num, percent } from "../common/format.js";
import { lrToSlider } from "../common/slider.js";
import { clearAnswer, showAnswer } from "./answer.js";
import { BackpropView } from "./backprop.js";
import { Curves } from "./charts.js";
import { bytesOf, ConfusionView } from "./confusion.js";
import { EXPERIMENTS, experimentStart } from "./experiments.js";
import { GradientSizes } from "./gradients.js";
import { LandscapeView } from "./landscape.js";
import { DrawingPad, showWeights } from "./draw.js";
import { Frames } from "./frames.js";
import { lrFromSlider, readSettings, showParameterCount } from "./settings.js";
import { TrainSession } from "./session.js";
import { applyStatus, connectionLost, createState, shownPaused } from "./state.js";
import { say, showButtons, showDataSource, showEnd, showLoading, showProgress } from "./status.js";

const $ = (id) => document.getElementById(id);

const state = createState();
window.gdviz = { state }; // for tests and the curious

const curves = new Curves($("cost"), $("accuracy"));
const pad = new DrawingPad($("draw"), () => classify());
const confusion = new ConfusionView($("confusion"), $("mistakes"), $("mistakes-title"), {
  onCell: (t, p) => session.mistakes(t, p),
  onDigit(bytes, label) {
    pad.load(bytes);
    $("backprop-label").value = String(label);
    say(`a test digit labelled ${label} is on the pad`);
    classify();
  },
});
const gradientSizes = new GradientSizes($("gradient-size"));
const landscape = new LandscapeView($("landscape"), $("landscape-explained"), $("landscape-note"));
// The landscape is asked for after evaluations, one request at a time, at most every few
// seconds (the 3-D view, ~0.5 s a redraw without a GPU, every 10 s); while paused no
// evaluation comes, so nothing is asked.
const LANDSCAPE_EVERY = 3000;
const LANDSCAPE_EVERY_3D = 10000;
const scape = { pending: false, again: false, last: -Infinity, evals: 0 };
const backpropView = new BackpropView({ outputs: $("nudges-output"), hidden: $("nudges-hidden"),
  images: $("weight-gradients"), note: $("backprop-note") });
window.gdviz.views = { confusion, landscape, scape, backprop: backpropView, gradientSizes };
const latest = { weights: null, answer: null, asked: false }; // received, not drawn yet
// asked: the person asked for a classification (a stroke, Classify, a digit loaded) since
// the last answer; its answer shows even while paused, the answers evaluations ask for do not

/** A random digit of the test split onto the pad, its label picked for backprop. */
async function loadTestDigit() {
  const total = (state.dataset && state.dataset.test) || 0;
  if (!total) {
    backpropView.note("the test digits are not loaded yet");
    return;
  }
  const start = Math.floor(Math.random() * total);
  const response = await fetch(`/api/mnist/test-digits?start=${start}&count=1`);
  if (!response.ok) {
    backpropView.note(`⚠ ${(await response.json()).detail}`);
    return;
  }
  const page = await response.json();
  pad.load(bytesOf(page.images[0]));
  $("backprop-label").value = String(page.labels[0]);
  backpropView.note(`test digit #${start}, labelled ${page.labels[0]}: press Backprop it`);
  classify();
}

/** One example's backprop through the saved network (POST /api/mnist/backprop). */
async function backprop() {
  if (!pad.inked) {
    backpropView.note("draw a digit on the pad first (or click a mistake above)");
    return;
  }
  if (!state.savedModel) {
    backpropView.note("no saved network yet: train one and press Save — backprop uses the saved network");
    return;
  }
  const request = { ...pad.gray8(), label: Number($("backprop-label").value) };
  const response = await fetch("/api/mnist/backprop", { method: "POST",
    headers: { "Content-Type": "application/json" }, body: JSON.stringify(request) });
  const answer = await response.json();
  if (!response.ok) {
    backpropView.note(`⚠ ${answer.detail}`);
    return;
  }
  const model = await fetch("/api/mnist/model");
  backpropView.show(answer, model.ok ? (await model.json()).weights[0] : null);
}

function requestLandscape(force = false) {
  if (!state.live) return;
  const pca = $("landscape-method").value === "pca";
  if (pca && scape.evals < 2) return; // a path needs a few points before it has directions
  if (scape.pending) {
    scape.again = scape.again || force;
    return;
  }
  const every = $("landscape-3d").checked ? LANDSCAPE_EVERY_3D : LANDSCAPE_EVERY;
  if (!force && performance.now() - scape.last < every) return;
  scape.pending = true;
  scape.last = performance.now();
  session.landscape({ method: $("landscape-method").value });
}

const session = new TrainSession({
  onStatus(m) {
    if (m.state === "loading") {
      showLoading(m);
      return;
    }
    const fresh = m.state === "running" && m.total_steps !== undefined;
    applyStatus(state, m);
    if (fresh) {
      curves.addRun({ ...m, label: state.run && state.run.label });
      showDataSource(state);
      scape.evals = 0;
      gradientSizes.reset();
      landscape.reset("drawn after the training's second evaluation");
    }
    if (m.state === "finished" || m.state === "stopped") requestLandscape(true);
    if (m.state === "paused") showProgress(state); // where the server paused, once
    showEnd(m);
    showButtons(state);
  },
  onProgress(m) {
    curves.progress(m.steps, state.info.train);
    state.lastStep = m.steps[m.steps.length - 1];
  },
  onEval(m) {
    if (state.info) curves.evaluation(m, state.info.train);
    state.lastEval = m;
    if (m.confusion) {
      const accuracy = m.test_accuracy === null ? "" : ` · accuracy ${percent(m.test_accuracy)}`;
      confusion.show(m.confusion, `the network training now · step ${count(m.step)}${accuracy}`);
    }
    scape.evals += 1;
    if (state.info) gradientSizes.add(m, state.info.train);
    if (state.training && !shownPaused(state)) requestLandscape();
    if (pad.inked) classify(false); // watch the answer improve as the network learns
  },
  onWeights(m) {
    latest.weights = m;
  },
  onClassified(m) {
    if (!pad.inked) return; // asked before the pad was cleared: an answer to nothing shown
    // The answering network's cost names its outputs: the server's word if it gives it, else
    // what this page asked for (the live network) or saved.
    const cost = m.cost || (m.by === "live" ? state.run && state.run.cost : state.savedCost);
    latest.answer = { m, cost: cost || null, asked: latest.asked };
    if (!session.classifyNext) latest.asked = false; // else the person's may be the one queued
  },
  onSaved(m) {
    state.savedModel = true;
    state.savedCost = state.run ? state.run.cost : null;
    say(`saved (test accuracy ${percent(m.test_accuracy)}): POST /api/mnist/classify now uses it`);
  },
  onLandscape(m) {
    scape.pending = false;
    landscape.show(m); // drawn when not paused: one asked just before a pause waits for the resume
    if (scape.again) {
      scape.again = false;
      requestLandscape(true);
    }
  },
  onMistakes: (m) => confusion.showMistakes(m),
  onError(m) {
    if (m.message.startsWith("landscape:")) {
      scape.pending = false;
      landscape.note(m.message.slice("landscape:".length).trim());
      return;
    }
    state.error = m.message;
    state.wants = null; // a pause or resume refused: the page shows the server's state again
    say(`⚠ ${m.message}`, true);
  },
  onConnection(s) {
    if (s !== "open") scape.pending = false; // its answer will not come on a new connection
    if (s !== "open") state.wants = null;
    if (s === "reopened" && connectionLost(state)) {
      say("the connection to the server dropped: press Train to start again");
    }
    showButtons(state);
  },
  afterEach: () => frames.request(),
});

function classify(byPerson = true) {
  if (byPerson) latest.asked = true;
  if (!pad.inked) {
    say("draw a digit on the black square first", true);
    return;
  }
  session.classify(() => (pad.inked ? pad.gray8() : null));
}

// --- drawing: at most one panel per animation frame (frames.js) ----------------------------

const frames = new Frames({
  still: () => shownPaused(state),
  hold: () => pad.drawing,
  always(still) {
    if (!still) showProgress(state); // while paused the status line keeps what it said
  },
});
frames.add({ name: "cost", el: $("cost"), every: 250, dirty: () => curves.costDirty, draw: () => curves.drawCost() });
frames.add({ name: "accuracy", el: $("accuracy"), every: 500, dirty: () => curves.accuracyDirty,
  draw: () => curves.drawAccuracy() });
frames.add({ name: "gradient sizes", el: $("gradient-size"), every: 500, dirty: () => gradientSizes.dirty(),
  draw: () => gradientSizes.draw() });
frames.add({ name: "weights", el: $("weights"), every: 250, dirty: () => latest.weights !== null,
  draw() {
    showWeights($("weights"), latest.weights);
    latest.weights = null;
  } });
frames.add({ name: "confusion", el: $("confusion"), every: 1000, dirty: () => confusion.dirty(),
  draw: () => confusion.draw() });
frames.add({ name: "landscape", el: $("landscape"), every: 1000, dirty: () => landscape.dirty(),
  draw: () => landscape.draw() });
// The answer to the person's own drawing: first, and drawn while paused too.
frames.add({ name: "answer", el: $("probabilities"), every: 150, hiddenEvery: 150, first: true,
  moves: () => !(latest.answer && latest.answer.asked),
  dirty: () => latest.answer !== null,
  draw() {
    const { m, cost } = latest.answer;
    latest.answer = null;
    if (!pad.inked) return; // cleared since
    state.prediction = m;
    showAnswer(m, cost);
  } });
window.gdviz.frames = frames;

/** Pause or resume, shown at once: the status line says "paused" and nothing moves from the
 * click on (the server's status confirms it a round trip later). */
function togglePause() {
  if (shownPaused(state)) {
    state.wants = "resume";
    session.resume();
  } else {
    state.wants = "pause";
    session.pause();
  }
  showProgress(state);
  showButtons(state);
  if (state.wants === "resume") frames.request();
}

// --- controls -------------------------------------------------------------------------------

function wire() {
  $("train").addEventListener("click", () => {
    try {
      state.requested = readSettings();
      session.start(state.requested);
      state.error = "";
      say("starting…");
    } catch (problem) {
      say(`⚠ ${problem.message}`, true);
    }
  });
  for (const button of document.querySelectorAll("[data-experiment]")) {
    button.addEventListener("click", () => {
      const name = button.dataset.experiment;
      try {
        const { label, ...start } = { ...experimentStart(name, readSettings()), label: EXPERIMENTS[name].label };
        state.requested = { ...start, label };
        session.start(start);
        $("experiment-note").textContent = EXPERIMENTS[name].note;
        say(`starting: ${label}…`);
      } catch (problem) {
        say(`⚠ ${problem.message}`, true);
      }
    });
  }
  $("pause").addEventListener("click", () => togglePause());
  $("stop").addEventListener("click", () => session.stop());
  $("save").addEventListener("click", () => session.save());
  $("lr").addEventListener("input", () => {
    const lr = lrFromSlider();
    $("lr-value").textContent = num(lr, 3);
    if (state.training) session.setLr(lr);
  });
  $("hidden").addEventListener("input", showParameterCount);
  $("log-cost").addEventListener("change", (e) => curves.setLog(e.target.checked));
  $("clear-curves").addEventListener("click", () => {
    curves.reset();
    if (state.training && state.info) curves.addRun(state.info); // the running one keeps drawing
  });
  $("classify").addEventListener("click", () => classify());
  $("backprop").addEventListener("click", () => backprop());
  $("test-digit").addEventListener("click", () => loadTestDigit());
  $("landscape-3d").addEventListener("change", (e) => landscape.setThreeD(e.target.checked));
  $("landscape-method").addEventListener("change", () => {
    if (state.live) requestLandscape(true);
  });
  // The value is the pad's width over the pen's; a reload may keep the last choice.
  const usePen = () => { pad.penWidth = $("draw").width / Number($("pen").value); };
  usePen();
  $("pen").addEventListener("change", usePen);
  $("clear").addEventListener("click", () => {
    pad.clear();
    latest.answer = null;
    state.prediction = null;
    clearAnswer();
  });
}

/** Before any training here: where the saved network fails, if there is one. */
async function showSavedEvaluation() {
  if (!state.dataset || !state.dataset.saved_model) return; // a 409 would be a console error
  const response = await fetch("/api/mnist/evaluation");
  if (!response.ok || confusion.shown || confusion.pending) return;
  const e = await response.json();
  confusion.show(e.confusion, `the saved network · accuracy ${percent(e.accuracy)}`);
  frames.request();
}

async function main() {
  wire();
  $("lr").value = lrToSlider(3);
  $("lr-value").textContent = num(lrFromSlider(), 3);
  showParameterCount();
  showButtons(state);
  const info = await (await fetch("/api/mnist/dataset")).json();
  state.savedModel = state.savedModel || Boolean(info.saved_model);
  if (!state.info) {
    // A training that already started has said which data it uses.
    state.dataset = info;
    if (info.engine) state.engine = info.engine;
    showDataSource(state);
    showSavedEvaluation();
  }
}

main();
