"""Shared fixtures: a TestClient, a live server on a free port, and Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.web.app import create_app

CHROMIUM = os.environ.get("GDVIZ_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "screenshots"


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path_factory, monkeypatch):
    """Keep saved models out of the user's cache; MNIST itself comes from a shared cache."""
    shared = os.environ.get("GDVIZ_TEST_DATA_DIR")
    if shared:
        monkeypatch.setenv("GDVIZ_DATA_DIR", shared)
    else:
        monkeypatch.setenv("GDVIZ_DATA_DIR", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app()) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """Serve a fresh app on 127.0.0.1 at a free port in a daemon thread; yield its URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(), ws="websockets-sansio", log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("live server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright; skipped locally, failed in CI, when missing."""
    if not Path(CHROMIUM).exists():
        reason = (
            "Chromium not found: apt-get install -y --no-install-recommends chromium "
            "(never `playwright install` here)"
        )
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh 1400×900 page that fails the test on any page error or console error."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    new_page = context.new_page()
    problems: list[str] = []
    new_page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    new_page.on(
        "console",
        lambda msg: problems.append(f"console {msg.type}: {msg.text}")
        if msg.type == "error"
        else None,
    )
    yield new_page
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS
