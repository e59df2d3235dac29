"""The Origin rule: same-origin pages, listed origins and non-browser clients only."""

import pytest

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
