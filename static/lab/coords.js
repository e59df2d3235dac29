// Where a step sits on the cost plot and in the 3-D view, for the marks, kept paths and lr
// lines that linked.js and history.js draw beside the plots' own traces.

import { costValue } from "./cost.js";
import { sampler } from "./surface3d.js";

/** A cost as a shape's coordinate: data units also on a log axis, never beyond ±1e12. */
export function costShapeY(field, f, log) {
  return Math.min(Math.max(costValue(field, f, log), -1e12), 1e12);
}

/** The height a step is drawn at in the 3-D view (as surface3d.js draws the path). */
export function heightOf(field) {
  const zAt = sampler(field);
  const [lo, hi] = field.zRange;
  const lift = 0.015 * (hi - lo);
  return (p) => Math.max(Math.min(field.colorValue(p.f), hi), zAt(p.x, p.y)) + lift;
}
