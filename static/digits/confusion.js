// Where the network fails: the confusion matrix of the test digits (rows: the true digit,
// columns: the digit the network reads) and, for a cell clicked, those digits themselves
// with the network's probabilities. Clicking a digit hands it to the drawing pad.

import { percent } from "../common/format.js";
import { grayInk, paint } from "./draw.js";

const DIGITS = [...Array(10).keys()];
const FONT = { family: "system-ui, sans-serif", size: 11, color: "#374151" };
const MISTAKE_SCALE = [[0, "#fff7ed"], [0.15, "#fed7aa"], [0.5, "#fb923c"], [1, "#c2410c"]];
const RIGHT_SCALE = [[0, "#ecfdf5"], [1, "#a7f3d0"]];

/** base64 bytes → Uint8Array. */
export function bytesOf(text) {
  const raw = atob(text);
  const bytes = new Uint8Array(raw.length);
  for (let k = 0; k < raw.length; k++) bytes[k] = raw.charCodeAt(k);
  return bytes;
}

export class ConfusionView {
  /** handlers: onCell(trueDigit, predicted), onDigit(bytes784, label). */
  constructor(plotEl, galleryEl, titleEl, handlers) {
    this.plotEl = plotEl;
    this.galleryEl = galleryEl;
    this.titleEl = titleEl;
    this.handlers = handlers;
    this.pending = null;
    this.shown = null; // {confusion, source} on the plot now
    this.wired = false;
  }

  /** Remember a matrix to show; the page's frame scheduler calls draw() (frames.js). */
  show(confusion, source) {
    this.pending = { confusion, source };
  }

  /** Something new to draw: a matrix or a title other than the one shown. */
  dirty() {
    if (!this.pending) return false;
    const same = this.shown && this.shown.source === this.pending.source &&
      JSON.stringify(this.shown.confusion) === JSON.stringify(this.pending.confusion);
    if (same) this.pending = null;
    return !same;
  }

  draw() {
    if (!this.pending) return;
    this.shown = this.pending;
    this.pending = null;
    Plotly.react(this.plotEl, this.figure(this.shown));
    if (!this.wired) {
      this.wired = true;
      this.plotEl.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        if (point && point.x !== point.y) this.handlers.onCell(point.y, point.x);
      });
    }
  }

  figure({ confusion, source }) {
    const wrong = confusion.map((row, t) => row.map((v, p) => (t === p ? null : v)));
    const right = confusion.map((row, t) => row.map((v, p) => (t === p ? v : null)));
    const worst = Math.max(1, ...wrong.flat().filter((v) => v !== null));
    const cell = (z, colorscale, zmax, title) => ({
      type: "heatmap", x: DIGITS, y: DIGITS, z, colorscale, zmin: 0, zmax, showscale: false,
      xgap: 1, ygap: 1, texttemplate: "%{z}", textfont: { size: 10 },
      hovertemplate: `${title}<extra></extra>`,
    });
    return {
      data: [
        cell(wrong, MISTAKE_SCALE, worst, "%{z} digits labelled %{y} read as %{x}: click to see them"),
        cell(right, RIGHT_SCALE, Math.max(1, ...right.flat().filter((v) => v !== null)),
          "%{z} digits labelled %{y} read right"),
      ],
      layout: {
        margin: { l: 42, r: 8, t: 26, b: 38 }, font: FONT,
        title: { text: source, font: { size: 11 }, x: 0.02 },
        xaxis: { title: { text: "read as", standoff: 4 }, dtick: 1, side: "bottom", fixedrange: true },
        yaxis: { title: { text: "true digit", standoff: 4 }, dtick: 1, autorange: "reversed", fixedrange: true },
      },
      config: { displayModeBar: false, responsive: true },
    };
  }

  /** A "mistakes" reply: each digit as a small image, captioned with what the network said. */
  showMistakes(m) {
    const who = m.by === "live" ? "the network training now" : "the saved network";
    const shown = m.indices.length < m.total ? ` (the first ${m.indices.length})` : "";
    this.titleEl.textContent = m.total
      ? `${m.total} test digits labelled ${m.true} that ${who} reads as ${m.predicted}${shown}: click one to load it into the pad`
      : `no digit labelled ${m.true} is read as ${m.predicted} by ${who} now`;
    this.galleryEl.replaceChildren();
    m.indices.forEach((index, k) => {
      const probabilities = m.probabilities[k];
      const bytes = bytesOf(m.images[k]);
      const item = document.createElement("button");
      item.className = "mistake";
      item.dataset.index = String(index);
      item.title = `test digit #${index}, labelled ${m.true}\n` +
        probabilities.map((p, d) => `${d}: ${percent(p)}`).join("\n");
      const canvas = document.createElement("canvas");
      paint(canvas, Array.from(bytes, (v) => v / 255), 28, grayInk);
      const caption = document.createElement("small");
      caption.textContent = `${m.predicted}: ${percent(probabilities[m.predicted], 0)} · ${m.true}: ${percent(probabilities[m.true], 0)}`;
      item.append(canvas, caption);
      item.addEventListener("click", () => this.handlers.onDigit(bytes, m.true));
      this.galleryEl.append(item);
    });
  }
}
