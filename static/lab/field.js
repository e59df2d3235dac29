// What every plot needs to know about the surface on show: its colour values (one muted
// scale shared by contour and 3-D), their range, and how steep the surface usually is.

export const SCALE = [
  [0, "#f4f7fa"],
  [0.3, "#c9d6e3"],
  [0.65, "#8aa2ba"],
  [1, "#3d5166"],
];
export const FONT = {
  family: "system-ui, -apple-system, 'Segoe UI', sans-serif",
  size: 12,
  color: "#374151",
};

/**
 * The surface with its grid, made ready to draw. Surfaces with a huge range (Rosenbrock,
 * Himmelblau, Beale) colour log10(f − f* + 1), so the valley floor is not one flat colour.
 */
export function makeField(surface, grid) {
  const floor = surface.min_value ?? 0;
  const colorValue = surface.log_color ? (f) => Math.log10(Math.max(f - floor, 0) + 1) : (f) => f;
  const zColor = grid.z.map((row) => row.map((f) => (f === null ? null : colorValue(f))));
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of zColor) {
    for (const z of row) {
      if (z === null) continue; // a hole: a typed formula undefined there
      lo = Math.min(lo, z);
      hi = Math.max(hi, z);
    }
  }
  let fMin = Infinity;
  let fMax = -Infinity;
  for (const row of grid.z) {
    for (const f of row) {
      if (f === null) continue;
      fMin = Math.min(fMin, f);
      fMax = Math.max(fMax, f);
    }
  }
  const [[x0, x1], [y0, y1]] = surface.domain;
  return {
    fMin, // the lowest and highest f over the domain: a path beyond them has left the plot
    fMax,
    surface,
    grid,
    zColor,
    colorValue,
    zRange: [lo, hi],
    size: Math.min(x1 - x0, y1 - y0),
    colorTitle: surface.log_color ? "log₁₀(f − f* + 1)" : "f",
    slopes: gridSlopes(grid),
  };
}

/**
 * |∇f| at the grid's inner points, sorted. Only for drawing: it tells how steep "steep" is on
 * this surface, so an arrow's length can show where a gradient ranks (the numbers the page
 * prints are the server's exact gradients).
 */
function gridSlopes({ x, y, z }) {
  const slopes = [];
  for (let j = 1; j < y.length - 1; j++) {
    for (let i = 1; i < x.length - 1; i++) {
      if ([z[j][i + 1], z[j][i - 1], z[j + 1][i], z[j - 1][i]].includes(null)) continue;
      const gx = (z[j][i + 1] - z[j][i - 1]) / (x[i + 1] - x[i - 1]);
      const gy = (z[j + 1][i] - z[j - 1][i]) / (y[j + 1] - y[j - 1]);
      const norm = Math.hypot(gx, gy);
      if (Number.isFinite(norm)) slopes.push(norm);
    }
  }
  return Float64Array.from(slopes).sort();
}

/** The fraction of the surface that is less steep than `norm` (0 … 1). */
export function slopeRank(field, norm) {
  const s = field.slopes;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (s[mid] < norm) lo = mid + 1;
    else hi = mid;
  }
  return s.length ? lo / s.length : 0.5;
}

export function inDomain(field, x, y) {
  const [[x0, x1], [y0, y1]] = field.surface.domain;
  return x >= x0 && x <= x1 && y >= y0 && y <= y1;
}

/**
 * Where a path last crossed the domain's edge, if it has left it: the crossing point and the
 * side ("left", "right", "bottom", "top"); null while the path's last point is inside.
 */
export function exitPoint(field, steps) {
  const last = steps.length - 1;
  if (last < 1 || inDomain(field, steps[last].x, steps[last].y)) return null;
  let k = last - 1;
  while (k >= 0 && !inDomain(field, steps[k].x, steps[k].y)) k--;
  if (k < 0) return null;
  const p = steps[k];
  const q = steps[k + 1];
  const [[x0, x1], [y0, y1]] = field.surface.domain;
  const crossings = [];
  if (q.x > x1) crossings.push([(x1 - p.x) / (q.x - p.x), "right"]);
  if (q.x < x0) crossings.push([(x0 - p.x) / (q.x - p.x), "left"]);
  if (q.y > y1) crossings.push([(y1 - p.y) / (q.y - p.y), "top"]);
  if (q.y < y0) crossings.push([(y0 - p.y) / (q.y - p.y), "bottom"]);
  const [t, side] = crossings.reduce((a, b) => (b[0] < a[0] ? b : a));
  return { x: p.x + t * (q.x - p.x), y: p.y + t * (q.y - p.y), side };
}
