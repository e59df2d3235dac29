// The digit lab: train the network over /ws/train, watch its cost fall, draw a digit for it.
// This file only wires the pieces together: the state table (state.js), the controls
// (settings.js), the socket conversation (session.js), the plots (charts.js), the drawing
// pad (draw.js), the answer panel (answer.js) and the status lines (status.js).

import { num, percent } from "../common/format.js";
import { lrToSlider } from "../common/slider.js";
import { clearAnswer, showAnswer } from "./answer.js";
import { Curves } from "./charts.js";
import { DrawingPad, showWeights } from "./draw.js";
import { lrFromSlider, readSettings, showParameterCount } from "./settings.js";
import { TrainSession } from "./session.js";
import { applyStatus, connectionLost, createState } from "./state.js";
import { say, showButtons, showDataSource, showEnd, showLoading, showProgress } from "./status.js";

const $ = (id) => document.getElementById(id);

const state = createState();
window.gdviz = { state }; // for tests and the curious

const curves = new Curves($("cost"), $("accuracy"));
const pad = new DrawingPad($("draw"), () => classify());
const session = new TrainSession({
  onStatus(m) {
    if (m.state === "loading") {
      showLoading(m);
      return;
    }
    const fresh = m.state === "running" && m.total_steps !== undefined;
    applyStatus(state, m);
    if (fresh) {
      curves.addRun(m);
      showDataSource(state);
    }
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
    if (pad.inked) classify(); // watch the answer improve as the network learns
  },
  onWeights: (m) => showWeights($("weights"), m),
  onClassified(m) {
    state.prediction = m;
    // The answering network's cost names its outputs: the server's word if it gives it, else
    // what this page asked for (the live network) or saved.
    const cost = m.cost || (m.by === "live" ? state.run && state.run.cost : state.savedCost);
    showAnswer(m, cost || null);
  },
  onSaved(m) {
    state.savedCost = state.run ? state.run.cost : null;
    say(`saved (test accuracy ${percent(m.test_accuracy)}): POST /api/mnist/classify now uses it`);
  },
  onError(m) {
    state.error = m.message;
    say(`⚠ ${m.message}`, true);
  },
  onConnection(s) {
    if (s === "reopened" && connectionLost(state)) {
      say("the connection to the server dropped: press Train to start again");
    }
    showButtons(state);
  },
  afterEach: () => schedule(),
});

function classify() {
  if (!pad.inked) {
    say("draw a digit on the black square first", true);
    return;
  }
  session.classify(() => (pad.inked ? pad.gray8() : null));
}

// --- drawing, once per animation frame ------------------------------------------------------

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
  showProgress(state);
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
  $("pause").addEventListener("click", () => (state.paused ? session.resume() : session.pause()));
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
  $("clear").addEventListener("click", () => {
    pad.clear();
    state.prediction = null;
    clearAnswer();
  });
}

async function main() {
  wire();
  $("lr").value = lrToSlider(3);
  $("lr-value").textContent = num(lrFromSlider(), 3);
  showParameterCount();
  showButtons(state);
  const info = await (await fetch("/api/mnist/dataset")).json();
  if (!state.info) {
    // A training that already started has said which data it uses.
    state.dataset = info;
    if (info.engine) state.engine = info.engine;
    showDataSource(state);
  }
}

main();
