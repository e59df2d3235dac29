"""Clients that leave mid-run or mid-training leave nothing behind on the server."""

import gc
import json
import threading
import time

from websockets.sync.client import connect

from app.mnist.training import Trainer
from app.web.descent_ws import Connection, DescentSession
from app.web.train_ws import TrainConnection

SESSION_TYPES = (Connection, DescentSession, TrainConnection, Trainer)


def live_sessions() -> int:
    """Server-side session objects still alive (after a full collection)."""
    gc.collect()
    return sum(isinstance(o, SESSION_TYPES) for o in gc.get_objects())


def resident_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096 / 2**20


def ws_url(live_server: str, path: str) -> str:
    return live_server.replace("http://", "ws://") + path


def test_two_hundred_dropped_connections_leave_no_threads_or_work(live_server, mnist):
    def drop_descent():
        with connect(ws_url(live_server, "/ws/descent")) as ws:
            ws.send(json.dumps({"type": "start", "speed": 0, "max_steps": 1_000_000,
                                "runs": [{"id": "a", "lr": 1e-7}]}))  # fmt: skip
            ws.recv()

    def drop_training():
        with connect(ws_url(live_server, "/ws/train")) as ws:
            ws.send(json.dumps({"type": "start", "epochs": 100}))
            while json.loads(ws.recv())["type"] != "progress":
                pass

    drop_descent()
    drop_training()
    time.sleep(0.5)
    baseline, memory = threading.active_count(), resident_mb()
    for k in range(200):
        (drop_training if k % 20 == 0 else drop_descent)()
    deadline = time.monotonic() + 10
    while threading.active_count() > baseline and time.monotonic() < deadline:
        time.sleep(0.1)
    assert threading.active_count() <= baseline
    deadline = time.monotonic() + 10
    while live_sessions() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert live_sessions() == 0  # no connection, session or trainer is kept
    assert resident_mb() - memory < 40  # and the memory is back near where it was
    # the server is idle again: a new client is served at once
    with connect(ws_url(live_server, "/ws/descent")) as ws:
        ws.send(json.dumps({"type": "start", "surface": "bowl", "speed": 0}))
        started = time.monotonic()
        while json.loads(ws.recv()).get("state") != "converged":
            pass
        assert time.monotonic() - started < 5
