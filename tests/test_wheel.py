"""The package as a user installs it: a wheel in a fresh venv outside the checkout.

Builds the wheel from this checkout, installs it (NumPy engine only: no Numba,
no LLVM) into a new virtual environment in a temporary folder, starts its
``gdviz serve`` from there and uses it as the page would: both labs, Plotly.js,
the page's own scripts, one descent and one short training over the sockets.
Needs the package index for the wheel's dependencies (pip's cache helps).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TEST_DATA_DIR
from websockets.sync.client import connect

pytestmark = pytest.mark.needs_index

CHECKOUT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path, timeout: float = 600) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, CHECKOUT, cwd=out)
    (built,) = out.glob("gdviz-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel, tmp_path_factory) -> Path:
    """A fresh venv, outside the checkout, with the wheel and its dependencies installed."""
    home = tmp_path_factory.mktemp("user")
    run(sys.executable, "-m", "venv", home / "venv", cwd=home)
    python = home / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", wheel, cwd=home)
    return home / "venv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(venv) -> Iterator[str]:
    """``gdviz serve`` of the installed wheel, run from a folder that holds no checkout."""
    port = free_port()
    env = {
        **os.environ,
        "GDVIZ_DATA_DIR": str(TEST_DATA_DIR),  # the digits the test session already has
        "GDVIZ_MODEL_PATH": str(venv.parent / "model.npz"),
        "PYTHONPATH": "",
    }
    process = subprocess.Popen(
        [venv / "bin" / "gdviz", "serve", "--port", str(port)],
        cwd=venv.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(url + "/api/surfaces", timeout=2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"gdviz serve did not start:\n{process.stdout.read()}")
            time.sleep(0.2)
    yield url
    process.terminate()
    process.wait(timeout=10)


def fetch(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, response.headers["content-type"], response.read()


def test_the_wheel_carries_the_pages_and_their_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {
        "app/templates/index.html",
        "app/templates/mnist.html",
        "app/templates/curve.html",
    } <= names
    assert {
        "app/static/favicon.svg",
        "app/static/lab/main.js",
        "app/static/digits/main.js",
    } <= names
    assert not any("__pycache__" in name or name.startswith("tests/") for name in names)


def test_the_default_install_carries_no_compiler(venv):
    packages = run(venv / "bin" / "python", "-m", "pip", "list", "--format=json", cwd=venv.parent)
    names = {item["name"].lower() for item in json.loads(packages)}
    assert "gdviz" in names and "numpy" in names
    assert not names & {"numba", "llvmlite"}


def test_both_labs_and_every_file_of_theirs_are_served(server, wheel):
    for path in ("/", "/1d", "/mnist", "/docs"):
        status, content_type, body = fetch(server + path)
        assert status == 200 and content_type.startswith("text/html") and b"<html" in body.lower()
    status, content_type, body = fetch(server + "/vendor/plotly.min.js")
    assert status == 200 and "javascript" in content_type and len(body) > 1_000_000
    shipped = [n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("app/static/")]
    for name in shipped:  # every module the pages import, however deep, and every style
        assert fetch(server + "/" + name.removeprefix("app/"))[0] == 200, name
    for page in ("/", "/1d", "/mnist"):
        html = fetch(server + page)[2].decode()
        asked = [part.split('"')[0] for part in html.split('="/static/')[1:]]
        assert asked and all(f"app/static/{path}" in shipped for path in asked)


def test_a_typed_formula_is_differentiated_by_the_installed_sympy(server):
    request = urllib.request.Request(
        server + "/api/formulas",
        data=json.dumps({"formula": "x^2 + 3*y^2 - x*y"}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert body["hessian"] == [["2", "-1"], ["-1", "6"]]
    grid = json.loads(fetch(server + "/api/surfaces/custom/grid?n=3&formula=x%5E2%2By%5E2")[2])
    assert grid["z"][1][1] == 0.0 and grid["z"][0][0] == 50.0


def test_a_descent_runs_over_the_socket(server):
    with connect(server.replace("http", "ws") + "/ws/descent") as ws:
        ws.send(json.dumps({"type": "start", "surface": "bowl", "speed": 0,
                            "runs": [{"id": "a", "start": [2, 1], "lr": 0.1}]}))  # fmt: skip
        steps, state = [], None
        while state not in ("converged", "diverged", "max_steps"):
            message = json.loads(ws.recv(timeout=30))
            if message["type"] == "steps":
                steps += message["steps"]
            elif message["type"] == "status":
                state = message["state"]
    assert state == "converged"
    assert [s["i"] for s in steps] == list(range(len(steps)))
    # gd on x² + y²: x_{i+1} = x_i − 0.1·2x_i = 0.8·x_i
    assert steps[1]["x"] == pytest.approx(1.6) and steps[1]["y"] == pytest.approx(0.8)


def test_the_digit_network_trains_on_numpy(server):
    with connect(server.replace("http", "ws") + "/ws/train") as ws:
        ws.send(json.dumps({"type": "start", "epochs": 1}))
        statuses, evals = [], []
        while not statuses or statuses[-1]["state"] not in ("finished", "stopped"):
            message = json.loads(ws.recv(timeout=120))
            if message["type"] == "status":
                statuses.append(message)
            elif message["type"] == "eval":
                evals.append(message)
    running = next(s for s in statuses if s["state"] == "running")
    assert running["engine"] == "numpy"
    assert statuses[-1]["state"] == "finished", statuses[-1]
    assert evals[-1]["test_accuracy"] > 0.6 > evals[0]["test_accuracy"]  # it learned
    assert json.loads(fetch(server + "/api/mnist/dataset")[2])["engine"] == "numpy"
