// The status panel (one line per run: step, f, |∇f|, lr, the step length lr·|∇f| and the
// state in plain words) and the run list with its remove buttons.

import { escapeHtml, num } from "../common/format.js";
import { lastStep } from "./paths.js";

const STATE_WORDS = { max_steps: "stopped" };

/**
 * The run in focus in full (its numbers, then its state and why), and a short line for the
 * other runs, so the panel stays a few lines high however many runs there are.
 */
export function renderStatus(el, state) {
  const focused = state.runs.find((r) => r.id === state.focus) || state.runs[0];
  const lines = focused ? [focusLines(focused)] : [];
  const others = state.runs.filter((r) => r !== focused).map(shortLine);
  if (others.length) lines.push(`<div class="line others">${others.join("")}</div>`);
  if (state.error) lines.push(`<div class="line error">error: ${escapeHtml(state.error)}</div>`);
  el.innerHTML = lines.join("");
}

const swatch = (run) => `<span class="swatch" style="background:${run.color}"></span>`;

function focusLines(run) {
  const s = lastStep(run);
  if (!s) {
    const waiting = `<span>run ${run.id}: waiting for the server…</span>`;
    return `<div class="line">${swatch(run)}${waiting}</div>`;
  }
  const norm = Math.hypot(s.g[0], s.g[1]);
  const cells = [
    `run ${run.id}`,
    `step ${s.i}`,
    `f = ${num(s.f)}`,
    `|∇f| = ${num(norm, 3)}`,
    `lr = ${num(run.lr, 3)}`,
    `step length lr·|∇f| = ${num(run.lr * norm, 3)}`,
  ].map((text) => `<span>${text}</span>`);
  return (
    `<div class="line">${swatch(run)}${cells.join("")}</div>` +
    `<div class="line state">${stateText(run, s)}</div>`
  );
}

function shortLine(run) {
  const s = lastStep(run);
  const where = s ? `step ${s.i}, f = ${num(s.f, 3)}, ` : "";
  const word = STATE_WORDS[run.state] || run.state;
  const state = `<b class="${run.state}">${word}</b>`;
  return `<span class="other">${swatch(run)} ${run.id}: ${where}${state}</span>`;
}

// The state in plain words; the server's reason usually begins with the state's name.
function stateText(run, step) {
  const word = STATE_WORDS[run.state] || run.state;
  const reason = run.reason || "";
  const bold = (text) => `<b class="${run.state}">${escapeHtml(text)}</b>`;
  if (reason.startsWith(word)) return bold(word) + escapeHtml(reason.slice(word.length));
  if (reason) return `${bold(word)}: ${escapeHtml(reason)}`;
  if (run.state === "paused" && step.i === 0)
    return `${bold(word)}: press Play (Space) or Step (→)`;
  return bold(word);
}

/** The run list: a chip per run (click to show its gradient) with a × to remove it. */
export function renderRunList(el, state, { onRemove, onFocus }) {
  const optimizers = state.runs.map((r) => r.optimizer || state.optimizer).join();
  const key = state.runs.map((r) => r.id).join() + "|" + state.focus + "|" + optimizers;
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  el.replaceChildren(
    ...state.runs.map((run) => {
      const item = document.createElement("li");
      item.className = run.id === state.focus ? "focus" : "";
      const name = document.createElement("button");
      name.className = "name";
      name.title = `show the gradient of run ${run.id}`;
      name.innerHTML = `<span class="swatch" style="background:${run.color}"></span>run ${run.id}`;
      name.innerHTML += ` <span class="optimizer">${run.optimizer || state.optimizer}</span>`;
      name.addEventListener("click", () => onFocus(run.id));
      const remove = document.createElement("button");
      remove.className = "remove";
      remove.textContent = "×";
      remove.title = `remove run ${run.id}`;
      remove.setAttribute("aria-label", `remove run ${run.id}`);
      remove.disabled = state.runs.length === 1;
      remove.addEventListener("click", () => onRemove(run.id));
      item.append(name, remove);
      return item;
    }),
  );
}
