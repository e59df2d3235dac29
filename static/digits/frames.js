// When the digit lab's panels redraw. Plotly draws synchronously: a cost curve, a heat map and a
// contour redrawn in one animation frame took 0.2–0.5 s in software rendering, and a click or a
// pen's move that came meanwhile waited for all of it. So, once per animation frame, at most ONE
// panel is redrawn — the one that has waited longest among those with something new and due —
// and input is handled between frames:
// - a panel redraws only when it has something new (its dirty()), at most every `every` ms,
//   and every `hiddenEvery` ms while it is scrolled out of view (then at once when it comes in);
// - while the page shows "paused" (state.js: isStill) nothing that moves is drawn;
// - while the pen is down on the pad no panel is drawn: the ink comes first.

const HIDDEN_EVERY = 3000;

export class Frames {
  /**
   * still(): nothing that moves may be drawn now (paused); hold(): no panel now (the pen is
   * down); always(): cheap work done every frame (the status line), told whether still.
   */
  constructor({ still, hold, always }) {
    this.still = still;
    this.hold = hold;
    this.always = always;
    this.panels = [];
    this.requested = false;
    this.timer = null;
    this.due = Infinity;
    this.drawn = {}; // panel name → times drawn (for tests and benchmarks)
    this.moved = 0; // draws of panels that move (none while paused)
    this.observer = "IntersectionObserver" in window
      ? new IntersectionObserver((entries) => this.seen(entries)) : null;
  }

  /**
   * A panel: {name, el, every, hiddenEvery, dirty(), draw(), moves = true, first = false}.
   * `moves: false` panels (the answer to the person's own drawing) draw while paused too
   * (`moves` may be a function: whether what waits to be drawn moves);
   * `first: true` ones go before the others when both are due.
   */
  add(panel) {
    const p = { every: 0, hiddenEvery: HIDDEN_EVERY, moves: true, first: false, ...panel,
      last: -Infinity, visible: true };
    this.panels.push(p);
    if (this.observer && p.el) this.observer.observe(p.el);
    return p;
  }

  seen(entries) {
    for (const entry of entries) {
      const p = this.panels.find((q) => q.el === entry.target);
      if (p) p.visible = entry.isIntersecting;
    }
    this.request();
  }

  request() {
    if (this.requested) return;
    this.requested = true;
    requestAnimationFrame(() => this.frame());
  }

  later(ms) {
    const due = performance.now() + Math.max(0, ms);
    if (this.timer !== null && this.due <= due) return;
    clearTimeout(this.timer);
    this.due = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.request();
    }, Math.max(0, ms));
  }

  frame() {
    this.requested = false;
    const now = performance.now();
    const still = this.still();
    this.always(still);
    if (this.hold()) {
      if (this.panels.some((p) => p.dirty())) this.later(100);
      return;
    }
    let pick = null;
    let wait = Infinity;
    for (const p of this.panels) {
      const moves = typeof p.moves === "function" ? p.moves() : p.moves;
      if ((still && moves) || !p.dirty()) continue;
      const due = p.last + (p.visible ? p.every : Math.max(p.every, p.hiddenEvery));
      if (due > now) {
        wait = Math.min(wait, due - now);
        continue;
      }
      if (!pick || (p.first && !pick.first) || (p.first === pick.first && p.last < pick.last)) pick = p;
    }
    if (pick) {
      pick.last = now;
      const moves = typeof pick.moves === "function" ? pick.moves() : pick.moves;
      pick.draw();
      this.drawn[pick.name] = (this.drawn[pick.name] || 0) + 1;
      if (moves) this.moved += 1;
      this.request(); // the next due panel, if any, in the next frame
    } else if (wait < Infinity) {
      this.later(wait);
    }
  }
}
