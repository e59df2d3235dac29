// A WebSocket that queues messages until it is open and reconnects after a drop.
// onState("open") on the first connection, onState("reopened") after a reconnect (the server
// has then forgotten everything, so the page starts its runs again) and onState("closed").
// Every message handled is acknowledged ({"type": "ack", "received": n}), so the server
// computes no further ahead than the page has got: a set or a stop shows within a frame.
export class Socket {
  constructor(path, onMessage, onState = () => {}) {
    this.url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`;
    this.onMessage = onMessage;
    this.onState = onState;
    this.queue = [];
    this.retry = 250;
    this.opened = false;
    this.connect();
  }

  connect() {
    this.ws = new WebSocket(this.url);
    this.received = 0; // messages handled on this connection
    this.ws.onopen = () => {
      this.retry = 250;
      const queued = this.queue.splice(0);
      if (this.opened) {
        this.onState("reopened"); // queued messages are stale: the page sends a fresh start
      } else {
        this.opened = true;
        for (const message of queued) this.ws.send(message);
        this.onState("open");
      }
    };
    this.ws.onmessage = (event) => {
      try {
        this.onMessage(JSON.parse(event.data));
      } finally {
        this.received += 1;
        if (this.ws.readyState === WebSocket.OPEN) {
          this.ws.send(`{"type":"ack","received":${this.received}}`);
        }
      }
    };
    this.ws.onclose = () => {
      this.onState("closed");
      setTimeout(() => this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 5000);
    };
  }

  send(message) {
    const text = JSON.stringify(message);
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text);
    else this.queue.push(text);
  }
}
