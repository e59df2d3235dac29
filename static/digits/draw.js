// The drawing pad (white ink on black like MNIST, a round anti-aliased brush of a width the
// page picks, mouse, pen and touch through pointer events) and small images painted pixel by pixel: the
// input the network sees and its first layer's weights.
export class DrawingPad {
  constructor(canvas, onStrokeEnd) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.onStrokeEnd = onStrokeEnd;
    this.inked = false;
    this.penWidth = canvas.width / 13; // MNIST's usual stroke for a digit filling the pad
    this.clear();
    canvas.addEventListener("pointerdown", (e) => this.down(e));
    canvas.addEventListener("pointermove", (e) => this.move(e));
    canvas.addEventListener("pointerup", (e) => this.up(e));
    canvas.addEventListener("pointercancel", (e) => this.up(e));
  }

  /** The pen is down on the pad: the page holds its plots back meanwhile (frames.js). */
  get drawing() {
    return Boolean(this.last);
  }

  clear() {
    this.ctx.fillStyle = "#000";
    this.ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    this.inked = false;
  }

  point(event) {
    const box = this.canvas.getBoundingClientRect();
    return [(event.clientX - box.left) * (this.canvas.width / box.width),
      (event.clientY - box.top) * (this.canvas.height / box.height)];
  }

  down(event) {
    event.preventDefault();
    this.canvas.setPointerCapture(event.pointerId);
    this.last = this.point(event);
    this.stroke(this.last, this.last);
  }

  move(event) {
    if (!this.last) return;
    const next = this.point(event);
    this.stroke(this.last, next);
    this.last = next;
  }

  up() {
    if (!this.last) return;
    this.last = null;
    this.onStrokeEnd();
  }

  stroke([x0, y0], [x1, y1]) {
    const ctx = this.ctx;
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = this.penWidth;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1 + 0.01, y1);
    ctx.stroke();
    this.inked = true;
  }

  /** Show a 28×28 digit (bytes 0..255, row-major) on the pad, scaled up smoothly. */
  load(bytes) {
    const small = document.createElement("canvas");
    small.width = 28;
    small.height = 28;
    const context = small.getContext("2d");
    const image = context.createImageData(28, 28);
    bytes.forEach((v, k) => image.data.set([v, v, v, 255], 4 * k));
    context.putImageData(image, 0, 0);
    this.clear();
    this.ctx.imageSmoothingEnabled = true;
    this.ctx.drawImage(small, 0, 0, this.canvas.width, this.canvas.height);
    this.inked = true;
  }

  // The canvas as base64 bytes (ink = 255), row-major: the socket's compact "gray8" form,
  // 100 KB instead of 400 KB of numbers, so the server answers in milliseconds.
  gray8() {
    const { width, height } = this.canvas;
    const data = this.ctx.getImageData(0, 0, width, height).data;
    const bytes = new Uint8Array(width * height);
    for (let k = 0; k < bytes.length; k++) bytes[k] = data[4 * k];
    let text = "";
    for (let k = 0; k < bytes.length; k += 8192) {
      text += String.fromCharCode(...bytes.subarray(k, k + 8192));
    }
    return { width, height, gray8: btoa(text) };
  }
}

// Paint a grid of values onto a small canvas with a colour function.
export function paint(canvas, values, size, color) {
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(size, size);
  values.forEach((v, k) => {
    const [r, g, b] = color(v);
    image.data.set([r, g, b, 255], 4 * k);
  });
  ctx.putImageData(image, 0, 0);
}

// Playground's orange (+) / blue (−) scale through white, for weights.
export function diverging(scale) {
  return (v) => {
    const t = Math.max(-1, Math.min(1, v / scale));
    const [r, g, b] = t >= 0 ? [249, 115, 22] : [37, 99, 235];
    const a = Math.abs(t);
    return [255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a];
  };
}

export const grayInk = (v) => [255 * v, 255 * v, 255 * v];

/** The first layer's weights, one 28×28 canvas per neuron, on one scale for all of them. */
export function showWeights(container, m) {
  while (container.children.length < m.images.length) container.append(document.createElement("canvas"));
  while (container.children.length > m.images.length) container.lastChild.remove();
  const color = diverging(Math.max(Math.abs(m.min), Math.abs(m.max)));
  m.images.forEach((image, k) => paint(container.children[k], image, m.size, color));
}
