// How fast each layer learns: the length of its bias gradient ‖∂C/∂b‖ for the cost on 1,000
// training digits at every evaluation, per layer, on a log axis (Nielsen, chapter 5). With sigmoid
// neurons the layers nearer the input get smaller gradients — the vanishing gradient.
// Shows the running training only; extended when the page's frame scheduler says (frames.js).

const FONT = { family: "system-ui, sans-serif", size: 11, color: "#374151" };
const COLORS = ["#0891b2", "#2563eb", "#7c3aed", "#db2777", "#f97316"];

export class GradientSizes {
  constructor(el) {
    this.el = el;
    this.layers = 0;
    this.pending = [];
    this.reset();
  }

  reset() {
    this.layers = 0;
    this.pending = [];
    Plotly.newPlot(this.el, [], this.layout(), { displaylogo: false, responsive: true });
  }

  layout() {
    return { margin: { l: 55, r: 10, t: 24, b: 36 }, font: FONT,
      title: { text: "how fast each layer learns: ‖∂C/∂b‖ on 1,000 training digits", font: { size: 12 }, x: 0.02 },
      xaxis: { title: { text: "epochs", standoff: 2 }, rangemode: "tozero" },
      yaxis: { type: "log", exponentformat: "power" },
      legend: { orientation: "h", y: 1.12, x: 1, xanchor: "right", font: { size: 10 } } };
  }

  /** An eval message of the running training (`nTrain` digits per epoch). */
  add(e, nTrain) {
    if (!e.gradient_norms) return;
    if (this.layers !== e.gradient_norms.length) {
      this.layers = e.gradient_norms.length;
      const last = this.layers - 1;
      Plotly.react(this.el, e.gradient_norms.map((_, k) => ({
        type: "scatter", mode: "lines", x: [], y: [], line: { color: COLORS[k % COLORS.length], width: 1.6 },
        name: k === last ? "output layer" : `hidden layer ${k + 1}`,
      })), this.layout());
    }
    this.pending.push({ x: e.samples_seen / nTrain, norms: e.gradient_norms });
  }

  dirty() {
    return this.pending.length > 0 && this.layers > 0;
  }

  draw() {
    if (!this.pending.length || !this.layers) return;
    const points = this.pending.filter((p) => p.norms.length === this.layers && p.norms.every((v) => v > 0));
    this.pending = [];
    if (!points.length) return;
    const k = [...Array(this.layers).keys()];
    Plotly.extendTraces(this.el, { x: k.map(() => points.map((p) => p.x)), y: k.map((l) => points.map((p) => p.norms[l])) }, k);
  }
}
