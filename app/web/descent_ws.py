"""``/ws/descent``: validate client messages, pace the runs, send their steps.

Two tasks share one connection: the receiver applies messages to the session as
they arrive; the streamer computes each frame's steps and sends the outbox.  The
streamer awaits every send (so a slow client slows its runs instead of growing
memory) and sleeps between frames (so a ``set`` is applied before the next step).
"""

from __future__ import annotations

import asyncio
import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.web.descent_schemas import descent_messages
from app.web.descent_session import DescentSession
from app.web.origin import accept_if_same_origin
from app.web.ws_common import BadMessage, dumps, error_message, parse_message

router = APIRouter()

FRAME = 1 / 60  # seconds: at most ~60 messages a second per run


@router.websocket("/ws/descent")
async def descent_socket(websocket: WebSocket) -> None:
    """Run descents for one client until it disconnects."""
    if not await accept_if_same_origin(websocket):
        return
    session = DescentSession()
    wake = asyncio.Event()
    streamer = asyncio.create_task(_stream(websocket, session, wake))
    try:
        while True:
            text = await websocket.receive_text()
            try:
                session.handle(parse_message(text, descent_messages))
            except BadMessage as error:
                session.outbox.append({"type": "error", "message": str(error)})
            wake.set()
    except WebSocketDisconnect:
        pass
    finally:
        streamer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await streamer


async def _stream(websocket: WebSocket, session: DescentSession, wake: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    last = loop.time()
    while True:
        if not session.has_work and not session.outbox:
            wake.clear()
            await wake.wait()
            last = loop.time()
        now = loop.time()
        session.produce(now - last)
        last = now
        while session.outbox:
            message = session.outbox.popleft()
            try:
                text = dumps(message)
            except ValueError:  # a bug, never the client's fault: say so, send nothing bad
                text = error_message("internal error: a non-finite number was not sent")
            await websocket.send_text(text)
        spent = loop.time() - now
        await asyncio.sleep(max(FRAME - spent, 0.0))
