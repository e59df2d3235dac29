// The digit lab's plots: the cost and accuracy curves (one colour per training run, kept for
// comparison) and the two small bar charts under the drawing pad.
import { ACCENTS } from "../common/colors.js";

const FONT = { family: "system-ui, sans-serif", size: 12, color: "#374151" };
const CONFIG = { displaylogo: false, responsive: true };
const BUCKETS = 1024; // per curve: at most this many buckets, each drawn as its min and max
const SMOOTHING = 0.95;

/**
 * A long curve kept short: consecutive points in buckets of `size`, each drawn as its lowest
 * and its highest point (in their order), so a spike stays visible; past `limit` buckets,
 * neighbours merge and the size doubles. A 30-epoch batch-10 run (12,000 steps) or a
 * 1,000-epoch one (400,000) is drawn with 1,000–2,000 points.
 */
export class Decimator {
  constructor(limit = BUCKETS) {
    this.limit = limit;
    this.size = 1;
    this.buckets = [];
    this.cache = null;
  }

  push(x, y) {
    this.cache = null;
    if (!this.buckets.length) this.first = [x, y];
    this.latest = [x, y];
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.n < this.size) {
      last.n += 1;
      if (y < last.lo) Object.assign(last, { lo: y, xlo: x });
      if (y > last.hi) Object.assign(last, { hi: y, xhi: x });
    } else {
      this.buckets.push({ n: 1, lo: y, xlo: x, hi: y, xhi: x });
    }
    if (this.buckets.length > this.limit) this.merge();
  }

  merge() {
    const merged = [];
    for (let k = 0; k < this.buckets.length; k += 2) {
      const a = this.buckets[k];
      const b = this.buckets[k + 1];
      if (!b) {
        merged.push(a);
        continue;
      }
      merged.push({ n: a.n + b.n,
        ...(b.lo < a.lo ? { lo: b.lo, xlo: b.xlo } : { lo: a.lo, xlo: a.xlo }),
        ...(b.hi > a.hi ? { hi: b.hi, xhi: b.xhi } : { hi: a.hi, xhi: a.xhi }) });
    }
    this.buckets = merged;
    this.size *= 2;
  }

  /** {x, y} to draw: the first point, each bucket's min and max in the order they came (one
   * point if the same), and the latest point, so the curve runs from the start to now. */
  points() {
    if (this.cache) return this.cache;
    const x = [];
    const y = [];
    if (this.first) {
      x.push(this.first[0]); y.push(this.first[1]);
    }
    for (const b of this.buckets) {
      if (b.xlo === b.xhi) {
        x.push(b.xlo); y.push(b.lo);
      } else if (b.xlo < b.xhi) {
        x.push(b.xlo, b.xhi); y.push(b.lo, b.hi);
      } else {
        x.push(b.xhi, b.xlo); y.push(b.hi, b.lo);
      }
    }
    if (x.length > 1 && x[1] === x[0]) {
      x.shift(); y.shift(); // the first point was a bucket's min or max already
    }
    if (this.latest && x[x.length - 1] !== this.latest[0]) {
      x.push(this.latest[0]); y.push(this.latest[1]);
    }
    this.cache = { x, y };
    return this.cache;
  }
}

/**
 * The cost and accuracy curves, one colour per run. Steps are taken in as they come and the
 * plots redrawn whole (Plotly.react of the decimated curves) when the page's frame scheduler
 * says so (frames.js): drawCost()/drawAccuracy(), each only when something changed.
 */
export class Curves {
  constructor(costEl, accuracyEl) {
    this.costEl = costEl;
    this.accuracyEl = accuracyEl;
    this.runs = [];
    this.log = false;
    this.reset();
  }

  reset() {
    this.runs = [];
    this.costDirty = false;
    this.accuracyDirty = false;
    Plotly.newPlot(this.costEl, [], this.costLayout(), CONFIG);
    Plotly.newPlot(this.accuracyEl, [], this.accuracyLayout(), CONFIG);
  }

  costLayout() {
    return { margin: { l: 55, r: 10, t: 28, b: 38 }, font: FONT, title: { text: "cost", font: { size: 13 }, x: 0.02 },
      xaxis: { title: { text: "epochs", standoff: 2 }, rangemode: "tozero" },
      yaxis: { title: { text: "cost" }, type: this.log ? "log" : "linear", rangemode: "tozero" },
      legend: { orientation: "h", y: 1.12, x: 0.25, font: { size: 11 } }, uirevision: "cost" };
  }

  accuracyLayout() {
    return { margin: { l: 55, r: 10, t: 24, b: 36 }, font: FONT, showlegend: false,
      title: { text: "test accuracy", font: { size: 13 }, x: 0.02 },
      xaxis: { title: { text: "epochs", standoff: 2 }, rangemode: "tozero" },
      yaxis: { range: [0, 1], tickformat: ".0%" }, uirevision: "accuracy" };
  }

  setLog(on) {
    this.log = on;
    Plotly.relayout(this.costEl, { "yaxis.type": on ? "log" : "linear" });
  }

  // A new training run: three cost curves and one accuracy curve in its own colour.
  addRun(info) {
    const color = ACCENTS[this.runs.length % ACCENTS.length];
    const what = info.label || (info.shuffle_labels ? "shuffled labels" : "real labels");
    const label = `run ${this.runs.length + 1} (${what})`;
    const dash = info.shuffle_labels ? "dot" : "solid";
    this.runs.push({ color, label, dash, ema: 0, count: 0, batch: new Decimator(), smooth: new Decimator(),
      test: new Decimator(), accuracy: new Decimator() });
    this.costDirty = true;
    this.accuracyDirty = true;
  }

  progress(steps, nTrain) {
    const run = this.runs[this.runs.length - 1];
    if (!run) return;
    for (const s of steps) {
      // An exponential moving average, bias-corrected (as Adam does) so it starts on the data.
      run.ema = SMOOTHING * run.ema + (1 - SMOOTHING) * s.cost;
      run.count += 1;
      const x = s.samples_seen / nTrain;
      run.batch.push(x, s.cost);
      run.smooth.push(x, run.ema / (1 - SMOOTHING ** run.count));
    }
    if (steps.length) this.costDirty = true;
  }

  evaluation(e, nTrain) {
    const run = this.runs[this.runs.length - 1];
    if (!run) return;
    const x = e.samples_seen / nTrain;
    if (e.test_cost !== null) {
      run.test.push(x, e.test_cost);
      this.costDirty = true;
    }
    if (e.test_accuracy !== null) {
      run.accuracy.push(x, e.test_accuracy);
      this.accuracyDirty = true;
    }
  }

  drawCost() {
    this.costDirty = false;
    const data = this.runs.flatMap((r) => [
      { type: "scatter", mode: "lines", ...r.batch.points(), name: `${r.label} batch cost`, showlegend: false,
        line: { color: r.color, width: 1 }, opacity: 0.25, hoverinfo: "skip" },
      { type: "scatter", mode: "lines", ...r.smooth.points(), name: r.label,
        line: { color: r.color, width: 2.2, dash: r.dash } },
      { type: "scatter", mode: "markers", ...r.test.points(), name: `${r.label} test cost`, showlegend: false,
        marker: { color: r.color, size: 7, symbol: "diamond", line: { color: "#111827", width: 1 } } },
    ]);
    Plotly.react(this.costEl, data, this.costLayout(), CONFIG);
  }

  drawAccuracy() {
    this.accuracyDirty = false;
    const data = this.runs.map((r) => ({ type: "scatter", mode: "lines+markers", ...r.accuracy.points(),
      name: r.label, line: { color: r.color, width: 2, dash: r.dash }, marker: { size: 5 } }));
    Plotly.react(this.accuracyEl, data, this.accuracyLayout(), CONFIG);
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
