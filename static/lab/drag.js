// Pointer input on the contour: drag a run's start marker, or click empty ground to add a run.
// Works for mouse, pen and touch (pointer events); Plotly's own zoom/pan is off on this plot.

const GRAB_RADIUS = 16; // px around a start marker that grabs it
const CLICK_SLOP = 4; // px a click may wander and still be a click

export function attachPointer(plot, { starts, onDrag, onDrop, onClick }) {
  let drag = null;

  function toData(event) {
    const layout = plot._fullLayout;
    if (!layout || !layout.xaxis) return null;
    const box = plot.getBoundingClientRect();
    const xa = layout.xaxis;
    const ya = layout.yaxis;
    const px = event.clientX - box.left - xa._offset;
    const py = event.clientY - box.top - ya._offset;
    const inside = px >= 0 && px <= xa._length && py >= 0 && py <= ya._length;
    return { x: xa.p2c(px), y: ya.p2c(py), px, py, inside };
  }

  function grabbed(point) {
    const layout = plot._fullLayout;
    let best = null;
    for (const [id, [x, y]] of starts()) {
      const d = Math.hypot(layout.xaxis.c2p(x) - point.px, layout.yaxis.c2p(y) - point.py);
      if (d <= GRAB_RADIUS && (!best || d < best.d)) best = { id, d };
    }
    return best && best.id;
  }

  plot.addEventListener(
    "pointerdown",
    (event) => {
      const point = toData(event);
      if (!point || !point.inside || event.button > 0) return;
      event.stopPropagation();
      event.preventDefault();
      drag = { id: grabbed(point), x0: event.clientX, y0: event.clientY, moved: false };
      plot.setPointerCapture(event.pointerId);
    },
    true,
  );

  plot.addEventListener(
    "pointermove",
    (event) => {
      if (!drag) {
        const point = toData(event);
        plot.style.cursor = point && point.inside && grabbed(point) ? "grab" : "crosshair";
        return;
      }
      if (Math.hypot(event.clientX - drag.x0, event.clientY - drag.y0) > CLICK_SLOP)
        drag.moved = true;
      if (drag.id && drag.moved) {
        const point = clampToPlot(toData(event), plot);
        plot.style.cursor = "grabbing";
        onDrag(drag.id, point.x, point.y);
      }
      event.stopPropagation();
    },
    true,
  );

  plot.addEventListener(
    "pointerup",
    (event) => {
      if (!drag) return;
      const point = clampToPlot(toData(event), plot);
      if (drag.id && drag.moved) onDrop(drag.id, point.x, point.y);
      else if (!drag.id && !drag.moved) onClick(point.x, point.y);
      drag = null;
      event.stopPropagation();
    },
    true,
  );

  plot.addEventListener(
    "pointercancel",
    () => {
      drag = null;
    },
    true,
  );
}

function clampToPlot(point, plot) {
  const [x0, x1] = plot._fullLayout.xaxis.range;
  const [y0, y1] = plot._fullLayout.yaxis.range;
  return {
    x: Math.min(Math.max(point.x, Math.min(x0, x1)), Math.max(x0, x1)),
    y: Math.min(Math.max(point.y, Math.min(y0, y1)), Math.max(y0, y1)),
  };
}
