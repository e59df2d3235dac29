// The stability hint by the lr slider. Near a minimum plain gradient descent multiplies the
// error along each curvature direction by (1 − lr·λ), so it is stable while lr < 2/λ_max;
// heavy-ball momentum β while lr < (2 + 2β)/λ_max (Goh, "Why Momentum Really Works");
// Nesterov while lr < (2 + 2β)/((1 + 2β)·λ_max). The same maths as app/stability.py (a
// browser test checks they agree); the Hessian is the server's exact one at the current point.

import { num } from "../common/format.js";

export const ADAPTIVE = ["adagrad", "rmsprop", "adam"];
const MOMENTUM = 0.9; // the page runs torch's default momentum
const ASK_EVERY_MS = 200;
const WORDS = {
  gd: "plain GD",
  momentum: "momentum β = 0.9",
  nesterov: "Nesterov β = 0.9",
  langevin: "Langevin's drift (plain GD)",
};

/** The larger eigenvalue of the symmetric 2×2 matrix [[a, b], [b, c]]. */
export function lambdaMax([[a, b], [, c]]) {
  return 0.5 * (a + c) + Math.hypot(0.5 * (a - c), b);
}

/** The largest stable lr near a point with this Hessian; null when there is none. */
export function lrLimit(hessian, optimizer = "gd", momentum = MOMENTUM) {
  const top = lambdaMax(hessian);
  if (ADAPTIVE.includes(optimizer) || optimizer === "annealing" || !(top > 0)) return null;
  if (optimizer === "gd" || optimizer === "langevin") return 2 / top; // langevin's drift is GD
  if (optimizer === "momentum") return (2 + 2 * momentum) / top;
  if (optimizer === "nesterov") return (2 + 2 * momentum) / ((1 + 2 * momentum) * top);
  throw new Error(`no optimizer called ${optimizer}`);
}

/** A learning rate just below `limit`: 98 % of it, rounded down to three significant digits. */
export function justBelow(limit) {
  const lr = 0.98 * limit;
  const unit = 10 ** (Math.floor(Math.log10(lr)) - 2);
  return Number((Math.floor(lr / unit) * unit).toPrecision(3));
}

/**
 * The #stability element: asks the server for the exact Hessian at the current point (one
 * request at a time; the newest point wins) and shows the limit for the chosen optimizer.
 */
async function hessianFrom(url) {
  const response = await fetch(url);
  return response.ok ? (await response.json()).hessian : null;
}

function nearestPoint(points, { x, y }) {
  let best = null;
  for (const p of points) {
    if (!best || Math.hypot(p[0] - x, p[1] - y) < Math.hypot(best[0] - x, best[1] - y)) best = p;
  }
  return best;
}

export class StabilityHint {
  constructor(el, onSetLr) {
    this.el = el;
    this.onSetLr = onSetLr;
    this.hessian = null;
    this.where = ""; // "current point" or "minimum reached"
    this.asked = null; // the point and surface of the newest request
    this.busy = false;
    this.lastAsk = -Infinity;
    this.pending = null;
    el.addEventListener("click", (e) => {
      const button = e.target.closest("button");
      if (button && this.suggested) this.onSetLr(this.suggested);
    });
  }

  /**
   * Follow the current point `step` of the focus run (`ended`: the run stopped there);
   * `urlAt(x, y)` is the surface's eval route for a point, `surfaceKey` names the surface.
   * Where nothing curves upwards (near a maximum or a saddle) the hint falls back to the
   * surface's listed minimum nearest the point, saying so.
   */
  follow(urlAt, surfaceKey, step, ended, state, minima = []) {
    if (!step) return;
    const key = `${surfaceKey}|${step.x}|${step.y}|${ended}`;
    if (key !== this.asked) {
      this.asked = key;
      const nearest = nearestPoint(minima, step);
      this.pending = {
        url: urlAt(step.x, step.y),
        ended,
        fallback: nearest && { url: urlAt(...nearest), at: nearest },
      };
      this.fetchNext(state);
    }
    this.render(state);
  }

  async fetchNext(state) {
    if (this.busy || !this.pending) return;
    this.busy = true;
    // at most ASK_EVERY_MS apart: a fast run moves every frame, the hint needs a few a second
    const wait = this.lastAsk + ASK_EVERY_MS - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.lastAsk = performance.now();
    const { url, ended, fallback } = this.pending; // the newest point asked for
    this.pending = null;
    try {
      this.hessian = await hessianFrom(url);
      this.where = ended ? "at the point reached" : "at the current point";
      const curvesUp = this.hessian && lambdaMax(this.hessian) > 0;
      if (!curvesUp && fallback) {
        this.hessian = await hessianFrom(fallback.url);
        this.where = `at the nearest minimum (${fallback.at.map((v) => num(v, 3)).join(", ")})`;
      }
    } catch {
      this.hessian = null;
    }
    this.busy = false;
    this.render(state);
    this.fetchNext(state);
  }

  render(state) {
    const { optimizer, lr } = state;
    this.suggested = null;
    let html;
    if (ADAPTIVE.includes(optimizer)) {
      html = `<span class="muted">${optimizer}: adaptive steps, no fixed lr limit</span>`;
    } else if (optimizer === "annealing") {
      html = `<span class="muted">annealing: random proposals, the lr is unused</span>`;
    } else if (!this.hessian) {
      html = `<span class="muted">lr limit: the curvature is undefined ${this.where || "here"}</span>`;
    } else {
      const limit = lrLimit(this.hessian, optimizer);
      const lambda = num(lambdaMax(this.hessian), 3);
      if (limit === null) {
        html = `<span class="muted">no lr limit: nothing curves upwards here (λ_max = ${lambda})</span>`;
      } else {
        const over = lr >= limit;
        this.suggested = justBelow(limit);
        const title =
          `${WORDS[optimizer]} is stable near a minimum while lr < ${optimizer === "gd" ? "2" : "(2 + 2β)"}` +
          `${optimizer === "nesterov" ? "/((1 + 2β)·λ_max)" : "/λ_max"}; λ_max = ${lambda} is the largest ` +
          `eigenvalue of the exact Hessian ${this.where}. Click to set lr = ${num(this.suggested, 3)}.`;
        html =
          `<button type="button" class="limit${over ? " over" : ""}" title="${title}">` +
          `${over ? "⚠ lr past " : "stable for lr < "}<b class="value">${num(limit, 3)}</b></button>` +
          `<span class="muted">${WORDS[optimizer]}, curvature ${this.where}</span>`;
      }
    }
    if (html !== this.html) {
      this.html = html;
      this.el.innerHTML = html;
      this.el.classList.toggle("over", this.el.querySelector(".over") !== null);
    }
  }
}
