"""Client-paced flow control: the server stays at most a few messages ahead of the page.

Awaiting ``send`` only says the kernel took the bytes: with its socket buffers in
between, a full-speed run can sit hundreds of milliseconds ahead of what the page
has drawn, so a ``set`` or a ``stop`` shows only after that backlog.  A client
that acknowledges what it has handled — ``{"type": "ack", "received": n}``, n
counting every message it got on this connection — lets the server compute no
further than a window of messages ahead of it.  Clients that never ack (scripts,
the tests of the plain protocol) are paced as before, by their reading alone.
"""

from __future__ import annotations

__all__ = ["AckWindow"]


class AckWindow:
    """Counts messages sent and acknowledged on one connection."""

    def __init__(self) -> None:
        self.sent = 0
        self.acked: int | None = None  # None until the first ack: a client that never acks

    @property
    def acking(self) -> bool:
        """True once the client has acknowledged anything: it is paced by its acks."""
        return self.acked is not None

    def on_sent(self) -> None:
        self.sent += 1

    def on_ack(self, received: int) -> None:
        """Record an ack; counts beyond what was sent, or going backwards, change nothing."""
        self.acked = max(self.acked or 0, min(received, self.sent))

    def ahead(self) -> int:
        """Messages sent that the client has not yet said it handled (0 if it never acks)."""
        return 0 if self.acked is None else self.sent - self.acked

    def open(self, window: int) -> bool:
        """True while the client is fewer than ``window`` messages behind."""
        return self.ahead() < window
