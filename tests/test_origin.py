"""The Origin rule: same-origin pages, listed origins and non-browser clients only."""

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from app.web.app import create_app
from app.web.origin import origin_is_allowed


@pytest.mark.parametrize(
    ("origin", "host", "allowed"),
    [
        (None, "127.0.0.1:8000", True),
        ("http://127.0.0.1:8000", "127.0.0.1:8000", True),
        ("http://LOCALHOST:8000/", "localhost:8000", True),
        ("http://example.com", "example.com:80", True),
        ("https://example.com", "example.com", True),
        ("http://127.0.0.1:9000", "127.0.0.1:8000", False),
        ("http://evil.example", "127.0.0.1:8000", False),
        ("null", "127.0.0.1:8000", False),
        ("file://", "127.0.0.1:8000", False),
        ("http://127.0.0.1:8000", None, False),
    ],
)
def test_origin_rule(origin, host, allowed):
    assert origin_is_allowed(origin, host) is allowed


def test_listed_origin_is_allowed(monkeypatch):
    monkeypatch.setenv("GDVIZ_ALLOWED_ORIGINS", "https://gdviz.school.example, http://x:1")
    assert origin_is_allowed("https://gdviz.school.example", "10.0.0.5:8000")
    assert origin_is_allowed("http://x:1", "127.0.0.1:8000")
    assert not origin_is_allowed("https://other.example", "10.0.0.5:8000")


def test_the_sockets_use_the_origins_listed_at_start_up(monkeypatch):
    listed, other = "https://gdviz.school.example", "https://other.example"
    monkeypatch.setenv("GDVIZ_ALLOWED_ORIGINS", listed)
    app = create_app()
    monkeypatch.delenv("GDVIZ_ALLOWED_ORIGINS")  # read once, at start-up: still listed
    with TestClient(app) as client:
        for path in ("/ws/descent", "/ws/train"):
            with client.websocket_connect(path, headers={"origin": listed}) as ws:
                ws.send_text('{"type": "probe"}')
                assert ws.receive_json()["type"] == "error"
            with pytest.raises(WebSocketDisconnect) as refused:
                with client.websocket_connect(path, headers={"origin": other}):
                    pass
            assert refused.value.code == 1008
