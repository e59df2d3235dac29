// Play/pause and one step for a page whose runs stream over /ws/descent: both labs'
// toolbar buttons (templates/_controls.html) and keys do the same to the socket.

/**
 * The two transport actions for a page's `state` (its `playing` flag) and `socket`.
 * `live()` says whether a run can still move; `restart()` runs them again from their
 * starts once none can; `redraw()` schedules the page's next frame.
 */
export function transportActions({ state, socket, live, restart, redraw }) {
  return {
    togglePlay() {
      if (!live()) return restart(); // every run has ended: run them again from their starts
      socket.send({ type: state.playing ? "pause" : "resume" });
      state.playing = !state.playing;
      redraw();
    },
    stepOnce() {
      if (!live()) return;
      if (state.playing) socket.send({ type: "pause" });
      state.playing = false;
      socket.send({ type: "step", n: 1 });
      redraw();
    },
  };
}
