// The words beside the picture: which way the slope points, so which way the ball goes, and
// how long its steps have been (they shrink as the slope flattens).

import { escapeHtml, num } from "../common/format.js";
import { fmt } from "./plot.js";

const FLAT = 1e-6; // |f′| below this: the run has converged
// How the other optimizers' steps differ from plain gradient descent's −lr·f′(x).
const OTHERS = {
  momentum: "Momentum adds 0.9 × the previous step to it, so the ball keeps rolling.",
  adam: "Adam divides it by the slope's running size, so its steps hardly shrink.",
  langevin:
    "Langevin adds a random kick that cools down over time: the ball can hop out of a dip.",
  annealing:
    "Annealing ignores the slope: it tries a random move and keeps it if f drops, or " +
    "sometimes even if it rises, less often as it cools.",
};

export function explainStep(el, ball, lr, optimizer = "gd") {
  if (!ball) {
    el.innerHTML = "waiting for the server…";
    return;
  }
  const step = -lr * ball.g;
  let words;
  if (Math.abs(ball.g) < FLAT) {
    words =
      `<p class="big">slope f′(x) = ${fmt(ball.g)} ≈ 0</p>` +
      "<p>The curve is flat here: the step −lr·f′(x) is about zero, so the ball stays.</p>";
  } else if (ball.g > 0) {
    words =
      `<p class="big">slope f′(x) = ${fmt(ball.g)} &gt; 0</p>` +
      `<p>The curve rises to the right, so the step −lr·f′(x) = ${fmt(step)} is negative: ` +
      'the ball moves <b class="go-left">← left</b>, downhill.</p>';
  } else {
    words =
      `<p class="big">slope f′(x) = ${fmt(ball.g)} &lt; 0</p>` +
      `<p>The curve falls to the right, so the step −lr·f′(x) = ${fmt(step)} is positive: ` +
      'the ball moves <b class="go-right">right →</b>, downhill.</p>';
  }
  const other = OTHERS[optimizer] ? `<p class="note"><b>${OTHERS[optimizer]}</b></p>` : "";
  el.innerHTML =
    words +
    other +
    `<p class="note">x_new = x − lr·f′(x), with lr = ${escapeHtml(num(lr, 3))}. ` +
    "The step is proportional to the slope, so it shrinks as the slope flattens near the " +
    "bottom: the ball slows down instead of overshooting (unless lr is too large).</p>";
}

/** The lengths of the last few steps, newest last: they shrink as the ball settles. */
export function recentSteps(steps, count = 5) {
  const lengths = [];
  for (let k = Math.max(1, steps.length - count); k < steps.length; k++) {
    lengths.push(Math.abs(steps[k].x - steps[k - 1].x));
  }
  return lengths;
}
