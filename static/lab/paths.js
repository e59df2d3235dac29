// Which of a run's steps get drawn, and how. Every step stays in run.steps; a long path is
// drawn with every 2nd, 4th, … step (always ending at the newest) so a plot never holds more
// than about MAX_DRAWN points per run. A short path gets a dot at every iterate; a long one a
// plain line (its dots would merge into one, and each dot is an SVG element to redraw).

export const MAX_DRAWN = 1000;
export const MAX_DOTS = 150;

/** True when the run has outgrown its stride and must be redrawn thinner. */
export function needsThinning(run) {
  return run.steps.length > MAX_DRAWN * run.stride;
}

/** True when the run must be drawn afresh: thinner, or without its dots. */
export function needsRedraw(run) {
  return needsThinning(run) || (run.dotted && run.steps.length > MAX_DOTS);
}

/** Pick the stride and the style for a whole redraw, and mark every step as drawn. */
export function thin(run) {
  while (needsThinning(run)) run.stride *= 2;
  run.drawn = run.steps.length;
  run.dotted = run.steps.length <= MAX_DOTS;
}

/** The steps a whole redraw shows: every stride-th one, and the newest. */
export function drawnSteps(run) {
  const points = [];
  for (let n = 0; n < run.steps.length; n += run.stride) points.push(run.steps[n]);
  const last = run.steps[run.steps.length - 1];
  if (last && points[points.length - 1] !== last) points.push(last);
  return points;
}

/** The steps that arrived since the last frame and fall on the stride; marks them drawn. */
export function freshSteps(run) {
  const points = [];
  for (let n = run.drawn; n < run.steps.length; n++) {
    if (n % run.stride === 0) points.push(run.steps[n]);
  }
  run.drawn = run.steps.length;
  return points;
}

export function lastStep(run) {
  return run.steps[run.steps.length - 1];
}
