// The controls: turn the page's inputs and keys into lab actions, and show the state's true
// values in them (on load and whenever the state changes them).

import { num } from "../common/format.js";
import { lrToSlider, sliderToLr } from "../common/slider.js";
import { SPEEDS } from "./state.js";

const $ = (id) => document.getElementById(id);

function speedLabel(speed) {
  return speed === 0 ? "max" : `${speed} steps/s`;
}

export function fillSurfaces(surfaces) {
  for (const s of surfaces) $("surface-select").add(new Option(s.title, s.name));
}

export function showControls(state) {
  if (state.surface) $("surface-select").value = state.surface.name;
  $("optimizer").value = state.optimizer;
  $("lr").value = lrToSlider(state.lr);
  $("lr-value").textContent = num(state.lr, 3);
  $("speed").value = String(SPEEDS.indexOf(state.speed));
  $("speed-value").textContent = speedLabel(state.speed);
  $("log-cost").checked = state.logCost;
}

export function showTransport(state, step) {
  const label = state.playing ? "Pause" : "Play";
  const play = $("play");
  if (play.dataset.label !== label) {
    play.dataset.label = label;
    play.innerHTML = state.playing
      ? '<span aria-hidden="true">❚❚</span> Pause'
      : '<span aria-hidden="true">▶</span> Play';
    play.setAttribute("aria-label", label);
    play.classList.toggle("playing", state.playing);
  }
  $("step-count").textContent = String(step);
}

/** Connect every input to `actions` (selectSurface, setOptimizer, setLr, setSpeed, …). */
export function wireControls(actions) {
  $("surface-select").addEventListener("change", (e) => actions.selectSurface(e.target.value));
  $("optimizer").addEventListener("change", (e) => actions.setOptimizer(e.target.value));
  $("lr").addEventListener("input", (e) => {
    const lr = sliderToLr(e.target.value);
    $("lr-value").textContent = num(lr, 3);
    actions.setLr(lr);
  });
  $("speed").addEventListener("input", (e) => {
    const speed = SPEEDS[Number(e.target.value)];
    $("speed-value").textContent = speedLabel(speed);
    actions.setSpeed(speed);
  });
  $("log-cost").addEventListener("change", (e) => actions.setLogCost(e.target.checked));
  $("play").addEventListener("click", actions.togglePlay);
  $("step").addEventListener("click", actions.stepOnce);
  $("reset").addEventListener("click", actions.reset);
  document.addEventListener("keydown", (e) => onKey(e, actions));
}

// Space = play/pause, → = one step; not while typing or choosing in a field.
function onKey(e, actions) {
  const target = e.target;
  const tag = target.tagName;
  const typing =
    tag === "SELECT" ||
    tag === "TEXTAREA" ||
    target.isContentEditable ||
    (tag === "INPUT" && target.type !== "range" && target.type !== "checkbox");
  if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
  // Space on a focused button or box presses it, → on a focused slider moves it: leave those.
  const pressable = tag === "BUTTON" || target.type === "checkbox";
  if (e.code === "Space" && !pressable) {
    e.preventDefault();
    actions.togglePlay();
  } else if (e.code === "ArrowRight" && target.type !== "range") {
    e.preventDefault();
    actions.stepOnce();
  }
}
