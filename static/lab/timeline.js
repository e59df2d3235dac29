// The timeline (issue 11, item 6): a slider over the focused run's steps. Once the run is
// paused or has ended, dragging it (or the arrow keys, or Replay) walks the mark along the
// path on all three plots and the readout shows that step; while the run goes on it waits.

const REPLAY_RATE = 30; // steps per second at most, however fast the run itself went
const REPLAY_SECONDS = 6; // a long run replays in about this long

export class Timeline {
  /** `el`: {input, output, replay}; `links`: the LinkedViews whose `pinned` it sets. */
  constructor(el, state, links, schedule) {
    Object.assign(this, { el, state, links, schedule });
    this.replaying = null; // {from, started} while Replay runs
    el.input.addEventListener("input", () => {
      this.stopReplay();
      this.pin(Number(el.input.value));
    });
    el.replay.addEventListener("click", () => (this.replaying ? this.stopReplay() : this.replay()));
  }

  focused() {
    return this.state.runs.find((r) => r.id === this.state.focus) || null;
  }

  pin(i) {
    const run = this.focused();
    this.links.pinned = run ? { run: run.id, i } : null;
    this.schedule();
  }

  /** Walk from the start (or from the slider's place, if it is not at the end) to the end. */
  replay() {
    const run = this.focused();
    if (!run || this.el.input.disabled) return;
    const last = run.steps.length - 1;
    const at = Number(this.el.input.value);
    const from = at < last ? at : 0;
    const rate = Math.max(REPLAY_RATE, last / REPLAY_SECONDS);
    this.replaying = { from, started: performance.now(), rate };
    this.pin(from);
  }

  stopReplay() {
    this.replaying = null;
  }

  /** Once per frame: fit the slider to the focused run, advance a replay. */
  frame() {
    const { input, output, replay } = this.el;
    const run = this.focused();
    const count = run ? run.steps.length : 0;
    const live = !run || run.state === "running" || count < 2;
    let pinned = this.links.pinned;
    if (pinned && (live || !run || pinned.run !== run.id || pinned.i >= count)) {
      pinned = this.links.pinned = null; // the run went on, restarted or lost the focus
      this.stopReplay();
    }
    if (this.replaying && pinned) {
      const { from, started, rate } = this.replaying;
      const i = Math.min(count - 1, from + Math.floor(((performance.now() - started) / 1000) * rate));
      pinned = this.links.pinned = { run: run.id, i };
      if (i >= count - 1) this.stopReplay();
      else this.schedule(); // the next frame moves it on
    }
    input.disabled = live;
    replay.disabled = live;
    input.max = String(Math.max(0, count - 1));
    input.value = String(pinned ? pinned.i : Math.max(0, count - 1));
    replay.textContent = this.replaying ? "❚❚" : "▶";
    replay.title = this.replaying ? "stop the replay" : "replay this run step by step";
    output.textContent = !run
      ? ""
      : live && run.state === "running"
        ? "live"
        : `step ${pinned ? pinned.i : Math.max(0, count - 1)} / ${Math.max(0, count - 1)}`;
  }
}
