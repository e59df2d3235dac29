// The digit lab's plots: the cost and accuracy curves (one colour per training run, kept for
// comparison) and the two small bar charts under the drawing pad.
import { ACCENTS } from "../common/colors.js";

const FONT = { family: "system-ui, sans-serif", size: 12, color: "#374151" };
const CONFIG = { displaylogo: false, responsive: true };
const MAX_POINTS = 20000; // batch-cost points drawn per run; every step still arrives
const TRACES_PER_RUN = 3; // batch cost, smoothed, test cost
const SMOOTHING = 0.95;

export class Curves {
  constructor(costEl, accuracyEl) {
    this.costEl = costEl;
    this.accuracyEl = accuracyEl;
    this.runs = [];
    this.log = false;
    this.pending = new Map();
    this.reset();
  }

  reset() {
    this.runs = [];
    this.pending.clear();
    Plotly.newPlot(this.costEl, [], this.costLayout(), CONFIG);
    Plotly.newPlot(this.accuracyEl, [], this.accuracyLayout(), CONFIG);
  }

  costLayout() {
    return { margin: { l: 55, r: 10, t: 28, b: 38 }, font: FONT, title: { text: "cost", font: { size: 13 }, x: 0.02 },
      xaxis: { title: { text: "epochs", standoff: 2 }, rangemode: "tozero" },
      yaxis: { title: { text: "cost" }, type: this.log ? "log" : "linear", rangemode: "tozero" },
      legend: { orientation: "h", y: 1.12, x: 0.25, font: { size: 11 } } };
  }

  accuracyLayout() {
    return { margin: { l: 55, r: 10, t: 24, b: 36 }, font: FONT, showlegend: false,
      title: { text: "test accuracy", font: { size: 13 }, x: 0.02 },
      xaxis: { title: { text: "epochs", standoff: 2 }, rangemode: "tozero" },
      yaxis: { range: [0, 1], tickformat: ".0%" } };
  }

  setLog(on) {
    this.log = on;
    Plotly.relayout(this.costEl, { "yaxis.type": on ? "log" : "linear" });
  }

  // A new training run: three cost traces and one accuracy trace in its own colour.
  addRun(info) {
    const color = ACCENTS[this.runs.length % ACCENTS.length];
    const what = info.label || (info.shuffle_labels ? "shuffled labels" : "real labels");
    const label = `run ${this.runs.length + 1} (${what})`;
    const stride = Math.max(1, Math.ceil(info.total_steps / MAX_POINTS));
    const run = { color, label, stride, ema: 0, count: 0 };
    this.runs.push(run);
    const dash = info.shuffle_labels ? "dot" : "solid";
    Plotly.addTraces(this.costEl, [
      { type: "scattergl", mode: "lines", x: [], y: [], name: `${label} batch cost`, showlegend: false,
        line: { color, width: 1 }, opacity: 0.25, hoverinfo: "skip" },
      { type: "scattergl", mode: "lines", x: [], y: [], name: label, line: { color, width: 2.2, dash } },
      { type: "scatter", mode: "markers", x: [], y: [], name: `${label} test cost`, showlegend: false,
        marker: { color, size: 7, symbol: "diamond", line: { color: "#111827", width: 1 } } },
    ]);
    Plotly.addTraces(this.accuracyEl, [{ type: "scatter", mode: "lines+markers", x: [], y: [],
      name: label, line: { color, width: 2, dash }, marker: { size: 5 } }]);
  }

  // Buffer steps; draw() extends the traces once per animation frame.
  progress(steps, nTrain) {
    const run = this.runs.length - 1;
    const run_ = this.runs[run];
    const buf = this.buffer(run);
    for (const s of steps) {
      // An exponential moving average, bias-corrected (as Adam does) so it starts on the data.
      run_.ema = SMOOTHING * run_.ema + (1 - SMOOTHING) * s.cost;
      run_.count += 1;
      if ((run_.count - 1) % run_.stride === 0) {
        const x = s.samples_seen / nTrain;
        buf.batch.x.push(x); buf.batch.y.push(s.cost);
        buf.smooth.x.push(x); buf.smooth.y.push(run_.ema / (1 - SMOOTHING ** run_.count));
      }
    }
  }

  evaluation(e, nTrain) {
    const buf = this.buffer(this.runs.length - 1);
    const x = e.samples_seen / nTrain;
    if (e.test_cost !== null) { buf.test.x.push(x); buf.test.y.push(e.test_cost); }
    if (e.test_accuracy !== null) { buf.accuracy.x.push(x); buf.accuracy.y.push(e.test_accuracy); }
  }

  buffer(run) {
    if (!this.pending.has(run)) {
      const empty = () => ({ x: [], y: [] });
      this.pending.set(run, { batch: empty(), smooth: empty(), test: empty(), accuracy: empty() });
    }
    return this.pending.get(run);
  }

  draw() {
    for (const [run, buf] of this.pending) {
      const base = run * TRACES_PER_RUN;
      const parts = [buf.batch, buf.smooth, buf.test];
      const index = [base, base + 1, base + 2].filter((_, k) => parts[k].x.length);
      const used = parts.filter((p) => p.x.length);
      if (used.length) Plotly.extendTraces(this.costEl, { x: used.map((p) => p.x), y: used.map((p) => p.y) }, index);
      if (buf.accuracy.x.length) Plotly.extendTraces(this.accuracyEl, { x: [buf.accuracy.x], y: [buf.accuracy.y] }, [run]);
    }
    this.pending.clear();
  }
}

// --- the answer to a drawing ----------------------------------------------------------------

const SMALL_FONT = { ...FONT, size: 11 };
const SMALL = { displayModeBar: false };
const DIGITS = [...Array(10).keys()].map(String);

/**
 * What the ten numbers are, as the plot's title says it: a quadratic-cost network's outputs
 * are ten independent sigmoids, which the server divides by their sum; a cross-entropy one's
 * are a softmax. null when the page does not know which network answered.
 */
export function outputsNote(cost) {
  if (cost === "quadratic") return "sigmoid outputs, scaled to sum to 1";
  if (cost === "cross_entropy") return "softmax";
  return "softmax, or sigmoid outputs scaled to sum to 1";
}

export function probabilityFigure(m, cost) {
  const colors = m.probabilities.map((_, d) => (d === m.digit ? "#f97316" : "#94a3b8"));
  return {
    data: [{ type: "bar", x: DIGITS, y: m.probabilities, marker: { color: colors },
      hovertemplate: "%{x}: %{y:.1%}<extra></extra>" }],
    layout: { margin: { l: 35, r: 5, t: 18, b: 22 }, font: SMALL_FONT,
      title: { text: `output probabilities <span style="color:#6b7280">· ${outputsNote(cost)}</span>`,
        font: { size: 11 }, x: 0.02 },
      yaxis: { range: [0, 1], tickformat: ".0%" }, xaxis: { type: "category" } },
    config: SMALL,
  };
}

export function activationFigure(m) {
  const bars = [];
  m.activations.forEach((layer, k) => layer.forEach((a, n) => bars.push({ x: `${k + 1}.${n + 1}`, a, k })));
  return {
    data: [{ type: "bar", x: bars.map((b) => b.x), y: bars.map((b) => b.a),
      marker: { color: bars.map((b) => (b.k % 2 ? "#2563eb" : "#0891b2")) },
      hovertemplate: "hidden layer %{x}: %{y:.2f}<extra></extra>" }],
    layout: { margin: { l: 35, r: 5, t: 18, b: 8 }, font: SMALL_FONT,
      title: { text: "hidden activations (layer.neuron)", font: { size: 11 }, x: 0.02 },
      xaxis: { showticklabels: false, type: "category" }, yaxis: { rangemode: "tozero" } },
    config: SMALL,
  };
}
