// The gradient, explained: at the current point the slope in a direction u (a unit vector at
// angle θ from the gradient) is D_u f = ∇f·u = |∇f| cos θ. The plot shows it for every θ in
// [−π, π]: the peak at θ = 0 is |∇f| (steepest ascent: the gradient's own direction), the
// trough at θ = ±π is −|∇f| (steepest descent, where −∇f points). The dial beside it shows
// those directions on the plane; hovering the plot turns a third arrow, u, to that θ.

import { num } from "../common/format.js";
import { FONT } from "./field.js";

const N = 181;
const THETA = Array.from({ length: N }, (_, k) => -Math.PI + (2 * Math.PI * k) / (N - 1));
const CONFIG = { displaylogo: false, responsive: true, displayModeBar: false };
const ASCENT = "#4b5563";
const DESCENT = "#111827";
const U_COLOR = "#f97316";
const SVG = "http://www.w3.org/2000/svg";

/** D_u f = |∇f| cos θ at every θ of the plot, for a gradient of length `norm`. */
export function directionalCurve(norm) {
  return { theta: THETA, slope: THETA.map((t) => norm * Math.cos(t)) };
}

function figure(norm) {
  const { theta, slope } = directionalCurve(norm);
  const top = Math.max(norm, 1e-12) * 1.25;
  return {
    data: [
      {
        type: "scatter",
        mode: "lines",
        x: theta,
        y: slope,
        line: { color: "#2563eb", width: 2 },
        hovertemplate: "θ = %{x:.2f}<br>D<sub>u</sub>f = %{y:.4g}<extra></extra>",
      },
      {
        type: "scatter",
        mode: "markers+text",
        x: [0, -Math.PI, Math.PI],
        y: [norm, -norm, -norm],
        text: ["θ = 0: |∇f|, steepest ascent", "", "θ = ±π: steepest descent"],
        textposition: ["top center", "top right", "top left"],
        textfont: { size: 10 },
        marker: { color: [ASCENT, DESCENT, DESCENT], size: 7 },
        hoverinfo: "skip",
        cliponaxis: false,
      },
    ],
    layout: {
      margin: { l: 40, r: 8, t: 14, b: 26 },
      font: { ...FONT, size: 10 },
      showlegend: false,
      hovermode: "x",
      dragmode: false,
      xaxis: {
        range: [-Math.PI, Math.PI],
        fixedrange: true,
        tickvals: [-Math.PI, -Math.PI / 2, 0, Math.PI / 2, Math.PI],
        ticktext: ["−π", "−π/2", "0", "π/2", "π"],
        zeroline: false,
        title: { text: "θ from ∇f", standoff: 0, font: { size: 10 } },
      },
      yaxis: {
        range: [-top, top],
        fixedrange: true,
        zeroline: true,
        zerolinecolor: "#d1d5db",
        title: { text: "D<sub>u</sub>f", standoff: 2, font: { size: 10 } },
      },
      paper_bgcolor: "#ffffff",
    },
  };
}

export class DirectionalView {
  /** `plot`: the #directional element; `dial`: the element the SVG dial goes into. */
  constructor(plot, dial, caption) {
    this.plot = plot;
    this.caption = caption;
    this.key = null;
    this.angle = 0; // the gradient's direction on the plane, radians
    this.norm = 0;
    this.dial = makeDial(dial);
    const f = figure(0);
    Plotly.newPlot(plot, f.data, f.layout, CONFIG);
    plot.on("plotly_hover", (event) => this.showU(event.points[0].x));
    plot.on("plotly_unhover", () => this.showU(null));
  }

  /** Show the gradient `g` of the current point; redraws only when it changed. */
  update(g) {
    if (!g) return;
    const key = `${g[0]},${g[1]}`;
    if (key === this.key) return;
    this.key = key;
    this.norm = Math.hypot(g[0], g[1]);
    this.angle = Math.atan2(g[1], g[0]);
    const f = figure(this.norm);
    Plotly.react(this.plot, f.data, f.layout, CONFIG);
    pointArrow(this.dial.ascent, this.norm ? this.angle : null, 1);
    pointArrow(this.dial.descent, this.norm ? this.angle + Math.PI : null, 1);
    this.caption.textContent = this.norm
      ? `|∇f| = ${num(this.norm, 3)}: the steepest slope, along ∇f`
      : "∇f = 0: every direction is flat here";
  }

  showU(theta) {
    const on = theta !== null && this.norm > 0;
    pointArrow(this.dial.u, on ? this.angle + theta : null, 0.8);
    if (on) this.dial.u.setAttribute("data-theta", String(theta));
  }
}

// --- the dial: directions on the plane (x right, y up), as on the contour plot -----------

function makeDial(host) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "-50 -50 100 100");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "Directions at the current point: ∇f and −∇f");
  const circle = document.createElementNS(SVG, "circle");
  Object.entries({ r: 34, fill: "none", stroke: "#d1d5db", "stroke-width": 1.5 }).forEach(
    ([k, v]) => circle.setAttribute(k, v),
  );
  svg.append(circle);
  const arrows = {
    u: arrow(svg, U_COLOR, "u"),
    ascent: arrow(svg, ASCENT, "∇f"),
    descent: arrow(svg, DESCENT, "−∇f"),
  };
  host.replaceChildren(svg);
  return arrows;
}

function arrow(svg, color, label) {
  const group = document.createElementNS(SVG, "g");
  group.setAttribute("class", `arrow ${label === "u" ? "u" : ""}`);
  const line = document.createElementNS(SVG, "line");
  Object.entries({ x1: 0, y1: 0, x2: 34, y2: 0, stroke: color, "stroke-width": 2.5 }).forEach(
    ([k, v]) => line.setAttribute(k, v),
  );
  const head = document.createElementNS(SVG, "path");
  head.setAttribute("d", "M 34 0 L 26 -5 L 26 5 Z");
  head.setAttribute("fill", color);
  const text = document.createElementNS(SVG, "text");
  text.textContent = label;
  Object.entries({ x: 40, y: 4, fill: color, "font-size": 11, "text-anchor": "middle" }).forEach(
    ([k, v]) => text.setAttribute(k, v),
  );
  group.append(line, head, text);
  group.style.display = "none";
  svg.append(group);
  return group;
}

/** Turn an arrow to `angle` (radians, counter-clockwise from +x); hide it for null. */
function pointArrow(group, angle, scale) {
  if (angle === null) {
    group.style.display = "none";
    return;
  }
  group.style.display = "";
  const degrees = (-angle * 180) / Math.PI; // SVG's y points down
  group.setAttribute("transform", `rotate(${degrees}) scale(${scale})`);
  const text = group.querySelector("text");
  text.setAttribute("transform", `rotate(${-degrees} 40 0)`); // labels stay upright
}
