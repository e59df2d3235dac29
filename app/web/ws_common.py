"""What every gdviz WebSocket shares: strict JSON in, finite JSON out, readable errors.

The message layer under app.web.connection, the session base of both sockets:

- ``parse_message(raw, adapter)`` turns one client frame into a validated message
  (a pydantic model chosen by its ``type``) or raises ``BadMessage`` with a sentence
  a person understands: too large (over ``MAX_MESSAGE_BYTES``), not JSON, NaN or
  Infinity (Python's ``json`` would accept those literals; we do not), not an
  object with a ``type``, or the pydantic errors in words.
- ``dumps(message)`` encodes a server message and raises ``ValueError`` rather
  than ever putting NaN or Infinity on the wire (a bug must be loud, not silent).
- ``error(text)`` is the ``{"type": "error", "message": ...}`` reply.
- ``receive_raw(websocket)`` waits for the next text or binary frame.
- ``run_until_one_ends(...)`` runs a connection's receive and send loops together
  and, when either ends (the client left, or a bug), stops the other at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
from collections.abc import Coroutine
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = [
    "MAX_MESSAGE_BYTES",
    "BadMessage",
    "describe_validation_error",
    "dumps",
    "error",
    "parse_message",
    "receive_raw",
    "run_until_one_ends",
]

MAX_MESSAGE_BYTES = 64 * 1024  # no client message of gdviz comes near this
MAX_PROBLEMS = 3  # pydantic can report dozens; the first few say enough
MAX_INT_DIGITS = 30  # far beyond any count gdviz takes


class BadMessage(ValueError):
    """A client message that cannot be used; its text goes back as an ``error``."""


# --- client → server ---------------------------------------------------------------------


def parse_message(raw: str | bytes, adapter: TypeAdapter, limit: int = MAX_MESSAGE_BYTES) -> Any:
    """Decode and validate one client message, or raise BadMessage saying what is wrong."""
    data = decode(raw, limit)
    try:
        return adapter.validate_python(data)
    except ValidationError as problem:
        raise BadMessage(describe_validation_error(problem, data["type"])) from None


def decode(raw: str | bytes, limit: int = MAX_MESSAGE_BYTES) -> dict:
    """Strict JSON: one object with a string ``type``, finite numbers, at most ``limit`` bytes."""
    if isinstance(raw, bytes) or len(raw) > limit or len(raw) * 4 <= limit:
        size = len(raw)  # exact for bytes; for text, ≤ its UTF-8 size, which is ≤ 4 × this
    else:
        size = len(raw.encode())
    if size > limit:
        raise BadMessage(f"message too large ({size:,} bytes; the limit is {limit:,} bytes)")
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadMessage("a binary message must be JSON text in UTF-8") from None
    try:
        # orjson takes strict JSON only (no NaN, Infinity or 1e999) and is ~6x faster, which
        # matters for a canvas; anything it refuses goes through json for a readable reason.
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = _strict_loads(raw)
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise BadMessage(
            'every message must be a JSON object with a "type", like {"type": "pause"}'
        )
    return data


def _strict_loads(raw: str) -> Any:
    """Python's json with our refusals, for the reason a message is not acceptable."""
    try:
        return json.loads(
            raw, parse_constant=_reject_constant, parse_float=_finite_float, parse_int=_short_int
        )
    except json.JSONDecodeError as problem:
        raise BadMessage(f"not valid JSON: {problem.msg} at character {problem.pos}") from None
    except RecursionError:
        raise BadMessage("not valid JSON: nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise BadMessage(f"{name} is not a number gdviz accepts: send finite numbers only")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # "1e999" parses to inf without passing parse_constant
        raise BadMessage(f"{text} is too large for a number: send finite numbers only")
    return value


def _short_int(text: str) -> int:
    if len(text) > MAX_INT_DIGITS:  # Python refuses over 4,300 digits with a bare ValueError
        raise BadMessage(f"a whole number with {len(text):,} digits is too long to be useful")
    return int(text)


def describe_validation_error(problem: ValidationError, message_type: str | None = None) -> str:
    """Pydantic's report as short sentences naming the field ("lr must be > 0, not -0.1")."""
    sentences = [_describe(item, message_type) for item in problem.errors()[:MAX_PROBLEMS]]
    more = len(problem.errors()) - MAX_PROBLEMS
    if more > 0:
        sentences.append(f"and {more} more problem{'s' if more > 1 else ''}")
    return "; ".join(sentences)


def _describe(item: dict, message_type: str | None) -> str:
    loc = list(item["loc"])
    if loc and loc[0] == message_type:  # the discriminated union puts the tag first
        loc = loc[1:]
    where = _location(loc)
    kind, ctx = item["type"], item.get("ctx") or {}
    if kind == "union_tag_invalid":
        return f"unknown message type {ctx.get('tag', '')!r} (known: {ctx.get('expected_tags')})"
    if kind == "missing":
        return f"{where} is missing"
    if kind == "extra_forbidden":
        of = f" in a {message_type!r} message" if message_type else ""
        return f"{where}: no such field{of}"
    text = item["msg"].replace(" after validation", "")
    if kind == "value_error":  # our own validators' sentences
        text = text.removeprefix("Value error, ")
        return f"{where}: {text}" if where else text
    first, _, rest = text.partition(" ")
    if rest.startswith("should ") and first in ("Input", "String", "List", "Tuple", "Dictionary"):
        text = rest  # "Input should be …" → "lr should be …"
    value = item.get("input")
    if ", not " not in text and isinstance(value, str | int | float | bool | None):
        text += f", not {_short(value)}"
    return f"{where or 'the message'} {text}"


def _location(loc: list) -> str:
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where


def _short(value: Any, limit: int = 40) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def receive_raw(websocket: WebSocket) -> str | bytes:
    """The next text or binary frame; raises WebSocketDisconnect when the client has gone."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason"))
    text = message.get("text")
    return text if text is not None else message.get("bytes") or b""


# --- server → client ---------------------------------------------------------------------


def dumps(message: dict) -> str:
    """Encode a server message; raises ValueError rather than ever sending NaN/Infinity.

    orjson encodes a full-speed frame of steps ~13× faster than ``json``, but writes
    NaN and Infinity as ``null``.  So a message with any ``null`` in it (rare: step 0's
    lr, a diverged evaluation) is encoded again by ``json``, which refuses them.
    """
    try:
        text = orjson.dumps(message)
    except orjson.JSONEncodeError:  # a type orjson does not know (json may): let json decide
        text = None
    if text is None or b"null" in text:
        return json.dumps(message, allow_nan=False, separators=(",", ":"))
    return text.decode()


def error(text: str) -> dict:
    """The error reply; the connection stays open and usable after it."""
    return {"type": "error", "message": text}


# --- running a connection ------------------------------------------------------------------


async def run_until_one_ends(*loops: Coroutine[Any, Any, None]) -> None:
    """Run a connection's loops; when one ends, cancel the rest and wait for them.

    A client leaving (WebSocketDisconnect) is a normal end.  Any other exception
    is a bug: it is re-raised after the other loops have stopped, so no task is
    left behind and the server logs it (Starlette then closes with code 1011).
    """
    tasks = [asyncio.ensure_future(loop) for loop in loops]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when this coroutine itself is cancelled
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    for task in done:
        if task.cancelled():
            continue
        problem = task.exception()
        if problem is not None and not isinstance(problem, WebSocketDisconnect):
            raise problem
