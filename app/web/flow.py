"""Client-paced flow control: a session computes no further than a window ahead of its client.

Awaiting ``send`` only says the kernel took the bytes: with its socket buffers in
between, a full-speed run can sit hundreds of milliseconds ahead of what the page
has drawn, so a ``set`` or a ``stop`` shows only after that backlog.  A client
that acknowledges what it has handled — ``{"type": "ack", "received": n}``, n
counting every message it got on this connection — lets the server compute no
further than a window of messages ahead of it.  Clients that never ack (scripts,
the tests of the plain protocol) are paced by their reading alone: the same window
then bounds the messages queued for them.  Either way a client that stops reading
holds its session's work, and the server's memory stays bounded.
"""

from __future__ import annotations

__all__ = ["Flow"]


class Flow:
    """One connection's message counts, and the one rule for computing more."""

    def __init__(self) -> None:
        self.sent = 0  # messages taken from the outbox to be written
        self.acked: int | None = None  # None until the first ack: a client that never acks

    @property
    def acking(self) -> bool:
        """True once the client has acknowledged anything: it is paced by its acks."""
        return self.acked is not None

    def on_sent(self) -> None:
        """Count a message as sent; counted before the write, so an ack can never outrun it."""
        self.sent += 1

    def on_ack(self, received: int) -> None:
        """Record an ack; counts beyond what was sent, or going backwards, change nothing."""
        self.acked = max(self.acked or 0, min(received, self.sent))

    def ahead(self, queued: int) -> int:
        """Messages made that the client has not yet handled, with ``queued`` still unsent.

        For a client that acks: everything made since its last ack; otherwise the
        queued messages (what it has read is, for all we know, handled).
        """
        if self.acked is None:
            return queued
        return self.sent + queued - self.acked

    def open(self, queued: int, window: int) -> bool:
        """True while the client is fewer than ``window`` messages behind: compute more."""
        return self.ahead(queued) < window
