// The lab's one state table (Playground style): every setting lives here and in the URL hash,
// so a view can be shared by link. Runs carry the steps received for them.

import { ACCENTS } from "../common/colors.js";

export const SPEEDS = [1, 2, 5, 10, 20, 30, 60, 120, 250, 500, 1000, 2000, 5000, 0]; // 0 = max
export const OPTIMIZERS = [
  ...["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"],
  ...["langevin", "annealing"], // the noisy ones, seeded by the page's seed (scatter.js)
];
export const MAX_RUNS = 16; // the server's limit

export function createState() {
  return {
    surfaces: {}, // name → the server's description
    surface: null,
    optimizer: "gd",
    lr: 0.01,
    speed: 60,
    logCost: false,
    runs: [],
    focus: null, // the run whose gradient arrows are drawn
    playing: false,
    error: "",
    nextRun: 0,
  };
}

/** A new run starting at `start`, with the next free id ("a", "b", …) and accent colour. */
export function newRun(state, start) {
  const n = state.nextRun++;
  const id = String.fromCharCode(97 + (n % 26)) + (n >= 26 ? String(Math.floor(n / 26)) : "");
  return {
    id,
    color: n < ACCENTS.length ? ACCENTS[n] : freeColor(state, n),
    start: [...start],
    steps: [],
    drawn: 0,
    stride: 1,
    state: "paused",
    reason: "",
    lr: state.lr,
    optimizer: null, // its own optimizer; null = the page's
  };
}

/** Past the 16th run, the first accent no run on show has (one colour per run everywhere). */
function freeColor(state, n) {
  const used = new Set(state.runs.map((r) => r.color));
  return ACCENTS.find((c) => !used.has(c)) || ACCENTS[n % ACCENTS.length];
}

/** Forget a run's steps (it is about to restart from its start). */
export function clearSteps(run, lr) {
  Object.assign(run, { steps: [], drawn: 0, stride: 1, lr, state: "paused", reason: "" });
}

export function saveHash(state) {
  if (!state.surface) return;
  const starts = state.runs.map((r) => r.start.map((v) => Number(v.toPrecision(4))).join(","));
  const params = new URLSearchParams({
    surface: state.surface.name,
    optimizer: state.optimizer,
    lr: String(state.lr),
    speed: String(state.speed),
    starts: starts.join(";"),
  });
  if (state.surface.name === "custom") {
    params.set("formula", state.surface.text);
    params.set("domain", state.surface.domain.flat().join(","));
  }
  if (Number.isInteger(state.seed)) params.set("seed", String(state.seed));
  const own = state.runs.map((r) => r.optimizer || "");
  if (own.some(Boolean)) params.set("runopt", own.join(";")); // each run's own optimizer
  if (state.logCost) params.set("log", "1");
  if (state.embed) params.set("embed", "1");
  history.replaceState(null, "", `#${params}`);
}

/** The settings in a hash such as `#surface=bowl&lr=0.1&starts=1,2;-1,0`; bad values → null. */
export function readHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const number = (key) => {
    const text = params.get(key);
    return text !== null && text.trim() !== "" && Number.isFinite(Number(text))
      ? Number(text)
      : null;
  };
  const starts = (params.get("starts") || "")
    .split(";")
    .filter(Boolean)
    .map((pair) => pair.split(",").map(Number))
    .filter((p) => p.length === 2 && p.every(Number.isFinite))
    .slice(0, MAX_RUNS);
  const lr = number("lr");
  const speed = number("speed");
  const optimizer = params.get("optimizer");
  return {
    surface: params.get("surface"),
    optimizer: OPTIMIZERS.includes(optimizer) ? optimizer : null,
    lr: lr !== null && lr >= 1e-5 && lr <= 10 ? lr : null,
    speed: SPEEDS.includes(speed) ? speed : null,
    starts,
    formula: params.get("formula"), // the typed formula, when surface=custom
    domain: readDomainParam(params.get("domain")),
    seed: Number.isInteger(number("seed")) && number("seed") >= 0 ? number("seed") : null,
    runOptimizers: (params.get("runopt") || "")
      .split(";")
      .map((name) => (OPTIMIZERS.includes(name) ? name : null)),
    logCost: params.get("log") === "1",
  };
}

/** `domain=xmin,xmax,ymin,ymax` → [[xmin, xmax], [ymin, ymax]]; null when absent or bad. */
function readDomainParam(text) {
  const numbers = (text || "").split(",").map((v) => (v.trim() === "" ? NaN : Number(v)));
  if (numbers.length !== 4 || !numbers.every(Number.isFinite)) return null;
  return [numbers.slice(0, 2), numbers.slice(2)];
}
