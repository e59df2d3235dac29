// The 1-D picture: the curve, the visited points, the ball at x, the tangent there and the
// next step −lr·f′(x) as an arrow along x. Axes stay on the curve's domain and value range,
// so a step that leaves the plot is marked at its edge instead of rescaling everything.

import { plotAxes } from "../common/pointer.js";

const ACCENT = "#f97316";
const INK = "#111827";
const FONT = { family: "system-ui, -apple-system, 'Segoe UI', sans-serif", size: 13 };
const CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };

/** The fixed axes of a curve: its domain, and its values over it with some air above. */
export function ranges(curve, grid) {
  const lo = Math.min(...grid.f);
  const hi = Math.max(...grid.f);
  const pad = 0.08 * (hi - lo || 1);
  return { x: [...curve.domain], y: [lo - pad, hi + pad] };
}

/**
 * Draw (or redraw) the whole figure. `view`: {curve, grid, range, steps, lr}; the last step is
 * where the ball is, and `lr` the learning rate its next step will use.
 */
export function drawCurve(el, view) {
  const { curve, grid, range, steps, lr } = view;
  const ball = steps.length ? steps[steps.length - 1] : null;
  const data = [
    {
      type: "scatter",
      mode: "lines",
      x: grid.x,
      y: grid.f,
      line: { color: "#64748b", width: 2.5 },
      hovertemplate: "f(%{x:.4g}) = %{y:.4g}<extra></extra>",
      name: "curve",
    },
    {
      type: "scatter",
      mode: "markers+text",
      x: curve.minima,
      y: curve.minima_values,
      text: curve.minima.map(() => "min"),
      textposition: "bottom center",
      marker: { symbol: "star", size: 13, color: "#fde047", line: { color: INK, width: 1 } },
      hovertemplate: "minimum x = %{x:.5g}<extra></extra>",
      name: "minima",
    },
    {
      type: "scatter",
      mode: "markers",
      x: steps.map((s) => s.x),
      y: steps.map((s) => s.f),
      marker: { color: "rgba(249,115,22,0.35)", size: 7, line: { color: ACCENT, width: 1 } },
      customdata: steps.map((s) => s.i),
      hovertemplate: "step %{customdata}: x = %{x:.5g}<extra></extra>",
      name: "steps",
    },
    tangentTrace(ball, range),
    {
      type: "scatter",
      mode: "markers",
      x: ball ? [ball.x] : [],
      y: ball ? [ball.f] : [],
      marker: { color: ACCENT, size: 16, line: { color: INK, width: 2 } },
      hovertemplate: "the ball: x = %{x:.5g}, f = %{y:.5g}<extra></extra>",
      name: "ball",
    },
  ];
  const layout = {
    margin: { l: 56, r: 20, t: 16, b: 44 },
    font: FONT,
    showlegend: false,
    dragmode: false,
    hovermode: "closest",
    xaxis: { range: range.x, fixedrange: true, zeroline: false, title: { text: "x" } },
    yaxis: { range: range.y, fixedrange: true, zeroline: false, title: { text: "f(x)" } },
    annotations: ball ? stepArrow(ball, lr, range) : [],
    paper_bgcolor: "#ffffff",
  };
  Plotly.react(el, data, layout, CONFIG);
}

/** The tangent at the ball: slope f′(x), a tenth of the domain to each side. */
function tangentTrace(ball, range) {
  const trace = {
    type: "scatter",
    mode: "lines",
    x: [],
    y: [],
    line: { color: INK, width: 1.5, dash: "dash" },
    hoverinfo: "skip",
    name: "tangent",
  };
  if (!ball) return trace;
  const w = 0.1 * (range.x[1] - range.x[0]);
  trace.x = [ball.x - w, ball.x + w];
  trace.y = [ball.f - ball.g * w, ball.f + ball.g * w];
  return trace;
}

/**
 * The next step −lr·f′(x) as an arrow along x, just under the ball (so the ball never hides
 * it), with a dotted drop from the ball; kept inside the plot.
 */
function stepArrow(ball, lr, range) {
  const step = -lr * ball.g;
  const [x0, x1] = range.x;
  const y = ball.f - 0.07 * (range.y[1] - range.y[0]);
  const to = Math.min(Math.max(ball.x + step, x0), x1);
  const off = to !== ball.x + step;
  const label = `−lr·f′ = ${fmt(step)}${off ? " (off the plot)" : ""}`;
  return [
    {
      x: to,
      y,
      ax: ball.x,
      ay: y,
      xref: "x",
      yref: "y",
      axref: "x",
      ayref: "y",
      showarrow: true,
      arrowhead: 3,
      arrowsize: 1.2,
      arrowwidth: 2.5,
      arrowcolor: "#c2410c",
      text: "",
    },
    {
      x: ball.x + (to - ball.x) / 2,
      y,
      yshift: -16,
      text: label,
      showarrow: false,
      font: { color: "#c2410c", size: 13 },
      bgcolor: "rgba(255,255,255,0.85)",
    },
  ];
}

export function fmt(value, digits = 3) {
  if (!Number.isFinite(value)) return "—";
  if (value === 0) return "0";
  const size = Math.abs(value);
  const text =
    size >= 1e4 || size < 1e-3
      ? value.toExponential(digits - 1).replace("e+", "e")
      : String(Number(value.toPrecision(digits)));
  return value > 0 ? `+${text}` : text.replace("-", "−");
}

/** The data x under a pointer event, or null outside the plot area. */
export function pointerX(el, event) {
  const axes = plotAxes(el, event);
  return axes && axes.xa.p2c(axes.px);
}
