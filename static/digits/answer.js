// The network's answer to a drawing: the digit, the 28×28 image it saw, its ten outputs and
// its hidden activations.

import { activationFigure, probabilityFigure } from "./charts.js";
import { grayInk, paint } from "./draw.js";

const $ = (id) => document.getElementById(id);
const TOOLTIPS = {
  quadratic: "Quadratic cost: the ten outputs are independent sigmoids, each in (0, 1); here they are divided by their sum.",
  cross_entropy: "Cross-entropy: the outputs are a softmax, so they already sum to 1.",
};

/** Show a "classified" message; `cost` is the answering network's cost, null if unknown. */
export function showAnswer(m, cost) {
  $("prediction").textContent = String(m.digit);
  $("prediction-by").textContent = m.by === "saved" ? "by the saved network" : "by the network training now";
  paint($("seen"), m.input, 28, grayInk);
  $("probabilities").title = TOOLTIPS[cost] || `${TOOLTIPS.quadratic} ${TOOLTIPS.cross_entropy}`;
  Plotly.react($("probabilities"), probabilityFigure(m, cost));
  Plotly.react($("activations"), activationFigure(m));
}

export function clearAnswer() {
  $("prediction").textContent = "?";
  $("prediction-by").textContent = "draw a digit";
}
