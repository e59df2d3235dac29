"""One WebSocket session base for ``/ws/descent`` and ``/ws/train``.

A ``Connection`` is one client: the Origin check and accept, then two loops.

- The receive loop parses each frame with the class's message adapter and calls
  its ``_on_<type>`` method; a ``BadMessage`` is answered with
  ``{"type": "error", "message": ...}`` and the connection stays usable.  Acks
  are counted here, for every session alike.
- The send loop writes the outbox in order.  Work done in the event loop (a
  descent's steps) happens in its ``frame()`` hook, between two writes.

Pacing is one rule (app.web.flow): work is done only while the client is fewer
than ``window`` messages behind.  ``frame()`` asks ``ready()``; a worker thread
(a training) hands its messages to ``post_from_thread``, which returns a grant
it waits for, given once the client has room again.  A client that stops reading
therefore holds its session's work, not the server's memory.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections import deque
from typing import Any, ClassVar

from pydantic import TypeAdapter
from starlette.websockets import WebSocket

from app.settings import Settings, settings
from app.web.control_messages import Ack
from app.web.flow import Flow
from app.web.origin import accept_if_same_origin
from app.web.ws_common import (
    BadMessage,
    dumps,
    error,
    parse_message,
    receive_raw,
    run_until_one_ends,
)

__all__ = ["MAX_QUEUED", "Connection", "app_state"]

MAX_QUEUED = 1_000  # messages owed to the client before we stop reading from it


def app_state(websocket: Any, name: str, default: Any = None) -> Any:
    """What ``create_app`` put on ``app.state`` (its settings, ...), if this socket has an app."""
    scope = getattr(websocket, "scope", None) or {}
    state = getattr(scope.get("app"), "state", None)
    return getattr(state, name, default)


class Connection:
    """One client: receive loop, outbox, send loop, ack pacing. Subclasses add ``_on_<type>``."""

    #: the client messages this socket takes (a pydantic union with a ``type`` discriminator)
    messages: ClassVar[TypeAdapter]

    def __init__(self, websocket: WebSocket, config: Settings | None = None) -> None:
        self.websocket = websocket
        self.settings = config or app_state(websocket, "settings") or settings()
        self.outbox: deque[dict] = deque()
        self.flow = Flow()
        self._wake = asyncio.Event()  # for the sender: a message came, or something was queued
        self._drained = asyncio.Event()  # for the receiver: the outbox was written
        self._grants: list[threading.Event] = []  # worker threads waiting for room

    @classmethod
    async def open(cls, websocket: WebSocket) -> None:
        """The route: refuse other sites' pages, else serve the client until it leaves."""
        connection = cls(websocket)
        if await accept_if_same_origin(websocket, connection.settings.allowed_origins):
            await connection.serve()

    async def serve(self) -> None:
        try:
            await run_until_one_ends(self._receive(), self._send())
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop the session's work (the client has gone); subclasses override."""

    # --- pacing ------------------------------------------------------------------------

    @property
    def window(self) -> int:
        """Messages the client may be behind: two frames' worth and two more (statuses, replies)."""
        return 2 * self.frame_messages + 2

    @property
    def frame_messages(self) -> int:
        """Messages one frame of this session's work makes (a descent: one per run)."""
        return 1

    def ready(self) -> bool:
        """True while the client keeps up: compute more."""
        return self.flow.open(len(self.outbox), self.window)

    # --- client → server -----------------------------------------------------------------

    def parse(self, raw: str | bytes) -> Any:
        return parse_message(raw, self.messages)

    async def _receive(self) -> None:
        """Validate and dispatch each message; a bad one gets an error and changes nothing."""
        while True:
            if len(self.outbox) >= MAX_QUEUED:  # a client that sends but never reads
                self._drained.clear()
                await self._drained.wait()
            raw = await receive_raw(self.websocket)
            try:
                message = self.parse(raw)
                if isinstance(message, Ack):
                    self.flow.on_ack(message.received)
                    self._release()
                else:
                    done = self.handle(message)
                    if inspect.isawaitable(done):
                        await done
            except BadMessage as problem:
                self.put(error(str(problem)))
            self._wake.set()

    def handle(self, message: Any) -> Any:
        """Call ``_on_<type>``; may return an awaitable, which the receive loop awaits."""
        return getattr(self, f"_on_{message.type}")(message)

    # --- server → client -----------------------------------------------------------------

    def put(self, message: dict) -> None:
        """Queue a message for the client (in the event loop's thread)."""
        self.outbox.append(message)
        self._wake.set()

    def post_from_thread(
        self, loop: asyncio.AbstractEventLoop, messages: list[dict], accept: Any = None
    ) -> threading.Event:
        """From a worker thread: queue ``messages``; the event returned is set once the
        client has room for more (the worker waits for it before computing on).

        ``accept()``, called in the event loop, may refuse them (e.g. after a stop).
        """
        grant = threading.Event()

        def deliver() -> None:
            if accept is not None and not accept():
                return
            for message in messages:
                self.put(message)
            self._grants.append(grant)
            self._release()

        loop.call_soon_threadsafe(deliver)
        return grant

    def release_all(self) -> None:
        """Wake every waiting worker (it is being stopped)."""
        for grant in self._grants:
            grant.set()
        self._grants.clear()

    def _release(self) -> None:
        if self._grants and self.ready():
            self.release_all()

    def wants_frame(self) -> bool:
        """True while ``frame()`` has work to do now (the sender does not wait)."""
        return False

    def frame(self) -> bool:
        """Compute one frame's messages into the outbox (if ``ready()``); True to ``pace()``."""
        return False

    async def pace(self) -> None:
        """Wait until the next frame is due."""

    def idle_ended(self) -> None:
        """The sender waited for something to do; it goes on now."""

    async def _send(self) -> None:
        while True:
            if not self.outbox and not self.wants_frame():
                self._wake.clear()
                await self._wake.wait()
                self.idle_ended()
            paced = self.frame()
            while self.outbox:
                message = self.outbox.popleft()
                self.flow.on_sent()
                await self.websocket.send_text(dumps(message))
            self._drained.set()
            self._release()
            if paced:
                await self.pace()
