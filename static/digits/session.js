// The /ws/train conversation: the messages the page sends, and each message the server sends
// handed to the page's handler of the same name (onStatus, onProgress, onEval, onWeights,
// onClassified, onSaved, onError). Acks and reconnects are the shared Socket's job.

import { Socket } from "../common/socket.js";

const HANDLERS = {
  status: "onStatus",
  progress: "onProgress",
  eval: "onEval",
  weights: "onWeights",
  classified: "onClassified",
  saved: "onSaved",
  error: "onError",
  landscape: "onLandscape",
  mistakes: "onMistakes",
};

export class TrainSession {
  /** handlers: {onStatus(m), …, onConnection("open" | "reopened" | "closed"), afterEach()}. */
  constructor(handlers) {
    this.handlers = handlers;
    this.classifying = false; // one classify request in flight at a time…
    this.classifyNext = null; // …and the newest drawing that waits for its answer
    this.socket = new Socket("/ws/train", (m) => this.receive(m), (s) => this.connection(s));
  }

  start(settings) {
    this.socket.send(settings);
  }

  pause() {
    this.socket.send({ type: "pause" });
  }

  resume() {
    this.socket.send({ type: "resume" });
  }

  stop() {
    this.socket.send({ type: "stop" });
  }

  save() {
    this.socket.send({ type: "save" });
  }

  setLr(lr) {
    this.socket.send({ type: "set", lr });
  }

  /** The cost landscape around the network (options: method, n, span, samples). */
  landscape(options) {
    this.socket.send({ type: "landscape", ...options });
  }

  /** The test digits labelled `trueDigit` that the network reads as `predicted`. */
  mistakes(trueDigit, predicted) {
    this.socket.send({ type: "mistakes", true: trueDigit, predicted });
  }

  /**
   * Ask which digit a drawing is (the live network answers, else the saved one, else an
   * error says there is none). Evaluations come many times a second and each asks again, so
   * only one request is in flight: a queue of canvases would hold a Stop back behind them.
   * `canvas` is a function giving the drawing when the request is sent (null: nothing to ask).
   */
  classify(canvas) {
    if (this.classifying) {
      this.classifyNext = canvas;
      return;
    }
    const drawing = canvas();
    if (!drawing) return;
    this.classifying = true;
    this.socket.send({ type: "classify", ...drawing });
  }

  classifyAnswered() {
    this.classifying = false;
    const next = this.classifyNext;
    this.classifyNext = null;
    if (next) this.classify(next);
  }

  receive(m) {
    const name = HANDLERS[m.type];
    if (name && this.handlers[name]) this.handlers[name](m);
    // An error may be the answer to a classify (no network yet, an empty canvas).
    if (m.type === "classified" || m.type === "error") this.classifyAnswered();
    if (this.handlers.afterEach) this.handlers.afterEach(m);
  }

  connection(s) {
    if (s !== "open") {
      // A request in flight or waiting will never be answered on this connection.
      this.classifying = false;
      this.classifyNext = null;
    }
    if (this.handlers.onConnection) this.handlers.onConnection(s);
  }
}
