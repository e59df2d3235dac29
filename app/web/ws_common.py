"""What both WebSocket endpoints share: strict JSON in, finite JSON out, readable errors."""

from __future__ import annotations

import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

MAX_MESSAGE_BYTES = 64 * 1024


class BadMessage(ValueError):
    """A client message that cannot be used; its text is sent back as an ``error``."""


def _reject_constant(name: str) -> Any:
    raise BadMessage(f"{name} is not a number gdviz accepts: send finite numbers only")


def parse_message(text: str, adapter: TypeAdapter, limit: int = MAX_MESSAGE_BYTES) -> Any:
    """Decode and validate one client message, or raise BadMessage saying what is wrong."""
    if len(text) > limit:
        raise BadMessage(f"message too large ({len(text):,} bytes; the limit is {limit:,})")
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise BadMessage(f"not valid JSON: {error.msg} at character {error.pos}") from None
    if not isinstance(data, dict) or "type" not in data:
        raise BadMessage('every message must be a JSON object with a "type"')
    try:
        return adapter.validate_python(data)
    except ValidationError as error:
        raise BadMessage(describe_validation_error(error)) from None


def describe_validation_error(error: ValidationError) -> str:
    """Turn pydantic's report into one sentence per problem, naming the field."""
    problems = []
    for item in error.errors()[:3]:
        loc = item["loc"][1:] if item["loc"] and item["loc"][0] in _TAGS else item["loc"]
        where = ".".join(str(part) for part in loc)
        message = item["msg"]
        if item["type"] == "union_tag_invalid":
            message = (
                f"unknown message type {item['input'].get('type')!r}"
                if isinstance(item["input"], dict)
                else message
            )
            problems.append(message)
            continue
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(problems)


_TAGS: set[str] = set()


def register_tags(*names: str) -> None:
    """Message type names, left out of error locations ("start.lr" reads as "lr")."""
    _TAGS.update(names)


def dumps(message: dict) -> str:
    """Encode a server message; raises ValueError rather than ever sending NaN/Infinity."""
    return json.dumps(message, allow_nan=False, separators=(",", ":"))


def error_message(text: str) -> str:
    return dumps({"type": "error", "message": text})
