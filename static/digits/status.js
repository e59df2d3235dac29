// The lines that say what is going on: the status line, the buttons' labels and whether they
// work, the progress bar, and which data and engine train.

import { count, num, percent } from "../common/format.js";
import { shownPaused } from "./state.js";

const $ = (id) => document.getElementById(id);

export function say(text, isError = false) {
  $("train-status").textContent = text;
  $("train-status").style.color = isError ? "#b91c1c" : "";
}

export function showButtons(state) {
  $("train").textContent = state.training ? "↺ Restart" : "▶ Train";
  $("pause").disabled = !state.training;
  $("pause").textContent = shownPaused(state) ? "▶ Resume" : "❚❚ Pause";
  $("stop").disabled = !state.training;
  $("save").disabled = !state.live;
}

/** "data: <source> — 4,000 train / 1,000 test · engine: numba" (no engine until known). */
export function showDataSource(state) {
  const d = state.dataset;
  $("data-source").textContent = !d
    ? "data: …"
    : d.cached
      ? `data: ${d.source} — ${count(d.train)} train / ${count(d.test)} test`
      : "data: not downloaded yet (fetched when you press Train)";
  $("engine").hidden = !state.engine;
  $("engine-name").textContent = state.engine || "";
}

/** While a training runs or is paused: the progress bar and "training: epoch … · step …". */
export function showProgress(state) {
  const s = state.lastStep;
  if (!state.training) return;
  const paused = shownPaused(state);
  if (!state.info || !s) {
    if (paused) say("paused: press Resume to go on"); // paused before its first step
    return;
  }
  const total = state.info.epochs * state.info.train;
  $("progress-bar").style.width = `${Math.min(100, (100 * s.samples_seen) / total)}%`;
  const e = state.lastEval;
  const accuracy = e && e.test_accuracy !== null ? ` · test accuracy ${percent(e.test_accuracy)}` : "";
  say(`${paused ? "paused" : "training"}: epoch ${s.epoch.toFixed(2)} / ${state.info.epochs} · ` +
    `step ${count(s.step)} · batch cost ${num(s.cost, 3)}${accuracy}`);
}

export function showLoading(m) {
  const of = m.total ? ` ${Math.round((100 * m.done) / m.total)} %` : "";
  say(`${m.message}${of}`);
}

export function showEnd(m) {
  if (m.state === "finished") {
    $("progress-bar").style.width = "100%";
    say(`finished: test accuracy ${percent(m.test_accuracy)} after ${count(m.step)} steps`);
  }
  if (m.state === "stopped") say(m.message || "stopped");
}
