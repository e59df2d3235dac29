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


def test_a_training_never_stalls_another_sessions_stream(live_server, mnist):
    """Training runs off the event loop: a descent beside it keeps getting its frames.

    The bound is loose on purpose (speed is measured in benchmarks/, not here): a
    training run on the loop would hold every frame back for the whole training.
    """
    trained = []

    def read_all(socket):  # a client that keeps up, so the training keeps going
        try:
            while True:
                message = json.loads(socket.recv())
                trained.extend([s["step"] for s in message.get("steps", [])][-1:])
        except Exception:  # closed at the end of the test
            pass

    with connect(ws_url(live_server, "/ws/train")) as trainer:
        trainer.send(json.dumps({"type": "start", "epochs": 30}))
        reader = threading.Thread(target=read_all, args=(trainer,), daemon=True)
        reader.start()
        while not trained:
            time.sleep(0.01)
        with connect(ws_url(live_server, "/ws/descent")) as ws:
            ws.send(json.dumps({"type": "start", "speed": 600, "max_steps": 1_000_000,
                                "runs": [{"id": "a", "lr": 1e-7}]}))  # fmt: skip
            arrivals, started = [], time.monotonic()
            while time.monotonic() - started < 2.0:
                if json.loads(ws.recv())["type"] == "steps":
                    arrivals.append(time.monotonic())
        during = trained[-1]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert during > 1000  # the network was training all along
    assert len(arrivals) > 20 and max(gaps) < 1.0
