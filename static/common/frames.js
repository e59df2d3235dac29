// One redraw per animation frame, however often it is asked for before the frame comes.

/** A `schedule()` that calls `draw()` once, at the next animation frame. */
export function perFrame(draw) {
  let requested = false;
  return function schedule() {
    if (requested) return;
    requested = true;
    requestAnimationFrame(() => {
      requested = false;
      draw();
    });
  };
}
