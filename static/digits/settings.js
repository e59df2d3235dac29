// The training controls: read them, check them, and say what the network will be.

import { count } from "../common/format.js";
import { sliderToLr } from "../common/slider.js";

const $ = (id) => document.getElementById(id);
const INPUTS = 784;
const OUTPUTS = 10;

/** "16 16" → [16, 16]; null unless it is up to 4 whole numbers from 1 to 512 (none: the
 * inputs feed the outputs directly). */
export function hiddenSizes(text) {
  const sizes = text.trim().split(/[\s,]+/).filter(Boolean).map(Number);
  return sizes.length <= 4 && sizes.every((n) => Number.isInteger(n) && n >= 1 && n <= 512) ? sizes : null;
}

/** Weights and biases of a 784-…-10 network: 13,002 for [16, 16]. */
export function parameterCount(hidden) {
  const sizes = [INPUTS, ...hidden, OUTPUTS];
  let total = 0;
  for (let k = 1; k < sizes.length; k++) total += sizes[k - 1] * sizes[k] + sizes[k];
  return total;
}

export function showParameterCount() {
  const hidden = hiddenSizes($("hidden").value);
  $("param-count").textContent = hidden ? count(parameterCount(hidden)) : "—";
}

export function lrFromSlider() {
  return sliderToLr($("lr").value);
}

function whole(id, lo, hi) {
  const v = Number($(id).value);
  if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`${id}: a whole number from ${lo} to ${hi}`);
  return v;
}

/** The /ws/train start message the controls describe; throws an Error saying what is wrong. */
export function readSettings() {
  const hidden = hiddenSizes($("hidden").value);
  if (!hidden) throw new Error("hidden sizes: up to 4 whole numbers between 1 and 512, e.g. 16 16");
  return {
    type: "start",
    hidden,
    activation: $("activation").value,
    cost: $("cost-fn").value,
    optimizer: $("optimizer").value,
    lr: lrFromSlider(),
    batch_size: whole("batch-size", 1, 60000),
    epochs: whole("epochs", 1, 1000),
    seed: whole("seed", 0, 4294967295),
    shuffle_labels: $("shuffle-labels").checked,
    augment: $("augment").checked,
  };
}
