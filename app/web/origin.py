"""Refuse WebSocket handshakes from other web pages (cross-site WebSocket hijacking).

Browsers send an ``Origin`` header with every WebSocket handshake but do not apply
the same-origin policy to WebSockets, so without this check any page open in the
user's browser could drive a gdviz running on their laptop.  Scripts and other
non-browser clients send no ``Origin`` and are accepted.
"""

from __future__ import annotations

from collections.abc import Collection
from urllib.parse import urlsplit

from starlette.websockets import WebSocket

from app.settings import settings

#: WebSocket close code that Starlette turns into a 403 when sent before accept.
POLICY_VIOLATION = 1008


def origin_is_allowed(
    origin: str | None, host: str | None, allowed: Collection[str] | None = None
) -> bool:
    """True for no Origin, a same-origin page (Origin's host:port = Host) or a listed origin.

    ``allowed``: the listed origins (lower case, no trailing slash); by default
    ``GDVIZ_ALLOWED_ORIGINS``.
    """
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if origin in (settings().allowed_origins if allowed is None else allowed):
        return True
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or not host:
        return False
    default_port = "443" if parts.scheme == "https" else "80"
    return _with_port(parts.netloc, default_port) == _with_port(host.lower(), default_port)


def _with_port(netloc: str, default_port: str) -> str:
    if netloc.endswith("]") or ":" not in netloc.rsplit("]", 1)[-1]:
        return f"{netloc}:{default_port}"
    return netloc


async def accept_if_same_origin(
    websocket: WebSocket, allowed: Collection[str] | None = None
) -> bool:
    """Accept the handshake, or refuse it with 403 when another site's page opened it."""
    headers = websocket.headers
    if origin_is_allowed(headers.get("origin"), headers.get("host"), allowed):
        await websocket.accept()
        return True
    await websocket.close(code=POLICY_VIOLATION)
    return False
