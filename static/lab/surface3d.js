// The 3-D view: the surface in the same colours as the contour, each path lying on it
// (z = the colour value of f, lifted a little so the surface does not hide it).

import { FONT, inDomain, SCALE } from "./field.js";
import { drawnSteps } from "./paths.js";

const MAX_SPLIT = 12; // in-between points per step, so a long step follows the surface

export function surfaceFigure(field, runs) {
  const { grid, zColor, zRange, surface } = field;
  const [lo, hi] = zRange;
  const data = [
    {
      type: "surface",
      x: grid.x,
      y: grid.y,
      z: zColor,
      colorscale: SCALE,
      showscale: false,
      opacity: 0.85,
      hoverinfo: "skip",
      contours: { z: { show: true, usecolormap: true, width: 1, project: { z: false } } },
    },
  ];
  const lift = 0.015 * (hi - lo);
  const zAt = sampler(field);
  for (const run of runs) data.push(...pathTraces(field, run, zAt, lift));
  const [xr, yr] = surface.domain;
  const axis = {
    nticks: 5,
    tickfont: { size: 10 },
    showspikes: false,
    title: { font: { size: 12 } },
  };
  const layout = {
    margin: { l: 0, r: 0, t: 0, b: 0 },
    font: FONT,
    showlegend: false,
    uirevision: surface.name,
    scene: {
      xaxis: { ...axis, range: xr, title: { text: "x" } },
      yaxis: { ...axis, range: yr, title: { text: "y" } },
      zaxis: { ...axis, range: [lo, hi + 0.05 * (hi - lo)], title: { text: field.colorTitle } },
      camera: { eye: { x: 1.25, y: -1.35, z: 1.25 } },
      aspectmode: "manual",
      aspectratio: { x: 1, y: 1, z: 0.65 },
    },
  };
  return { data, layout };
}

/**
 * A run's path on the surface, and its start and newest point as dots. The iterates are
 * joined through points sampled on the surface in between (a long step follows the ground
 * rather than cutting through a hill), with a gap where the path left the domain, so a
 * diverging run never rescales the view.
 */
function pathTraces(field, run, zAt, lift) {
  const hi = field.zRange[1];
  const xs = [];
  const ys = [];
  const zs = [];
  const drawn = drawnSteps(run);
  let previous = null;
  for (const p of drawn) {
    if (!inDomain(field, p.x, p.y)) {
      if (previous) xs.push(null), ys.push(null), zs.push(null);
      previous = null;
      continue;
    }
    if (previous) {
      const parts = Math.min(MAX_SPLIT, Math.ceil(cells(field, previous, p)));
      for (let k = 1; k < parts; k++) {
        const x = previous.x + ((p.x - previous.x) * k) / parts;
        const y = previous.y + ((p.y - previous.y) * k) / parts;
        xs.push(x), ys.push(y), zs.push(zAt(x, y) + lift);
      }
    }
    // never below the drawn surface, whose flat facets cut across a narrow valley's floor
    xs.push(p.x),
      ys.push(p.y),
      zs.push(Math.max(Math.min(field.colorValue(p.f), hi), zAt(p.x, p.y)) + lift);
    previous = p;
  }
  const ends = [...new Set([0, xs.length - 1])].filter(
    (n) => xs[n] !== null && xs[n] !== undefined,
  );
  return [
    {
      type: "scatter3d",
      mode: "lines",
      x: xs,
      y: ys,
      z: zs,
      connectgaps: false,
      line: { color: run.color, width: 5 },
      hoverinfo: "skip",
    },
    {
      type: "scatter3d",
      mode: "markers",
      x: ends.map((n) => xs[n]),
      y: ends.map((n) => ys[n]),
      z: ends.map((n) => zs[n]),
      hoverinfo: "skip",
      marker: {
        size: 5,
        color: ends.map((n) => (n === 0 ? "#ffffff" : run.color)),
        line: { color: run.color, width: 2 },
      },
    },
  ];
}

/** How many grid cells a step spans. */
function cells(field, a, b) {
  const { x, y } = field.grid;
  return Math.max(Math.abs(b.x - a.x) / (x[1] - x[0]), Math.abs(b.y - a.y) / (y[1] - y[0]));
}

/** z of the coloured surface anywhere in the domain, interpolated bilinearly from the grid. */
export function sampler(field) {
  const { x, y } = field.grid;
  const z = field.zColor;
  const nx = x.length;
  const ny = y.length;
  const dx = (x[nx - 1] - x[0]) / (nx - 1);
  const dy = (y[ny - 1] - y[0]) / (ny - 1);
  return (px, py) => {
    const fi = Math.min(Math.max((px - x[0]) / dx, 0), nx - 1.000001);
    const fj = Math.min(Math.max((py - y[0]) / dy, 0), ny - 1.000001);
    const i = Math.floor(fi);
    const j = Math.floor(fj);
    const u = fi - i;
    const v = fj - j;
    return (
      (1 - u) * (1 - v) * z[j][i] +
      u * (1 - v) * z[j][i + 1] +
      (1 - u) * v * z[j + 1][i] +
      u * v * z[j + 1][i + 1]
    );
  };
}
