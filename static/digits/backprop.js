// One example's backprop, 3Blue1Brown style: for the drawing on the pad and the label picked,
// what the saved network's outputs should do (the desired nudges −∂C/∂a: + for the label,
// − for the others), how that flows back to the hidden neurons, and which first-layer weights
// it asks to change most — each neuron's −∂C/∂W as a 28×28 image beside its weights.

import { diverging, paint } from "./draw.js";

const FONT = { family: "system-ui, sans-serif", size: 11, color: "#374151" };
const CONFIG = { displayModeBar: false, responsive: true };
const UP = "#f97316";
const DOWN = "#2563eb";
const MAX_NEURONS = 16;

function bars(x, y, title, hover) {
  return {
    data: [{ type: "bar", x, y, marker: { color: y.map((v) => (v >= 0 ? UP : DOWN)) },
      hovertemplate: hover }],
    layout: { margin: { l: 42, r: 6, t: 22, b: 26 }, font: FONT,
      title: { text: title, font: { size: 11 }, x: 0.02 },
      xaxis: { type: "category", tickfont: { size: 9 } }, yaxis: { zeroline: true, zerolinecolor: "#9ca3af" } },
    config: CONFIG,
  };
}

export class BackpropView {
  constructor(els) {
    this.els = els; // {outputs, hidden, images, note}
    this.shown = null;
  }

  note(text) {
    this.els.note.textContent = text;
  }

  /** A /api/mnist/backprop reply, and the saved model's first-layer weights (rows of 784). */
  show(m, weights) {
    this.shown = m;
    const output = m.nudges[m.nudges.length - 1];
    const right = m.probabilities[m.label];
    this.note(`labelled ${m.label}, read as ${m.digit} (${(100 * right).toFixed(0)} % for ${m.label}) · ` +
      `this example's cost ${m.cost.toPrecision(3)}`);
    Plotly.react(this.els.outputs, bars([...Array(10).keys()].map(String), output,
      `desired nudges of the outputs: + for ${m.label}, − for the others`, "output %{x}: %{y:.3f}<extra></extra>"));
    const names = [];
    const values = [];
    m.nudges.slice(0, -1).forEach((layer, k) => layer.forEach((v, n) => {
      names.push(`${k + 1}.${n + 1}`);
      values.push(v);
    }));
    Plotly.react(this.els.hidden, bars(names, values, "…flowing back: the hidden neurons' nudges (layer.neuron)",
      "hidden %{x}: %{y:.3g}<extra></extra>"));
    this.showImages(m.gradients.weights[0], weights);
  }

  /** Per neuron: its weights, and the change this example asks of them (−∂C/∂W). */
  showImages(gradient, weights) {
    const box = this.els.images;
    const count = Math.min(MAX_NEURONS, gradient.length);
    const side = Math.round(Math.sqrt(gradient[0].length));
    const scaleOf = (rows) => Math.max(1e-12, ...rows.slice(0, count).map((r) => Math.max(...r.map(Math.abs))));
    const wantColor = diverging(scaleOf(gradient));
    const weightColor = weights ? diverging(scaleOf(weights)) : null;
    box.replaceChildren();
    for (let k = 0; k < count; k++) {
      const pair = document.createElement("div");
      pair.className = "pair";
      const w = document.createElement("canvas");
      const g = document.createElement("canvas");
      w.title = `neuron 1.${k + 1}: its weights`;
      g.title = `neuron 1.${k + 1}: the change this example asks of its weights (−∂C/∂W)`;
      if (weights) paint(w, weights[k], side, weightColor);
      paint(g, gradient[k].map((v) => -v), side, wantColor);
      const caption = document.createElement("small");
      caption.textContent = `1.${k + 1}`;
      pair.append(w, g, caption);
      box.append(pair);
    }
  }
}
