// The digit lab's one state table: what the server says is happening and what the page shows.
// Only the /ws/train status messages change the training fields (applyStatus), so the
// buttons and the status line always agree with the server.

export function createState() {
  return {
    training: false, // a training runs or is paused
    paused: false,
    wants: null, // "pause" | "resume": clicked, the server has not answered yet (shown at once)
    live: false, // this connection has a network trained here (Save works)
    info: null, // the current training's "running" status: counts, source, parameter_count
    requested: null, // the settings of the last start sent, until its training runs
    run: null, // the settings of the training that runs (its cost names the outputs)
    savedCost: null, // the cost of the network this page saved, when it saved one
    savedModel: false, // a saved network exists (GET /api/mnist/dataset said so, or Save here)
    dataset: null, // GET /api/mnist/dataset, then the running status's {source, train, test}
    engine: null, // "numpy" | "numba" once the server says which trains
    lastStep: null,
    lastEval: null,
    prediction: null,
    error: "",
  };
}

/** Take in a status message; loading messages change nothing but the status line. */
export function applyStatus(state, m) {
  if (m.state === "loading") return;
  if (m.state === "running" && m.total_steps !== undefined) {
    // A new training (resuming sends "running" without the counts).
    state.info = m;
    state.live = true;
    state.run = state.requested;
    state.lastStep = null;
    state.lastEval = null;
    state.dataset = { source: m.source, train: m.train, test: m.test, cached: true };
    if (m.engine) state.engine = m.engine;
  }
  state.wants = null; // the server's word wins over what the page showed at the click
  state.paused = m.state === "paused";
  state.training = m.state === "running" || m.state === "paused";
}

/** What the page shows: paused (a Pause clicked, or the server says so) unless a Resume is
 * on its way. While it shows paused nothing on the page moves. */
export function shownPaused(state) {
  return state.training && (state.wants ? state.wants === "pause" : state.paused);
}

/** The connection dropped: the server forgot the training and its network. */
export function connectionLost(state) {
  const wasTraining = state.training;
  Object.assign(state, { training: false, paused: false, live: false, wants: null });
  return wasTraining;
}
