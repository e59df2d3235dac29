"""Clients that leave mid-run or mid-training leave nothing behind on the server."""

import gc
import json
import threading
import time

from websockets.sync.client import connect

from app.mnist.training import Trainer
from app.web.connection import Connection
from app.web.descent_ws import DescentSession
from app.web.live_training import LiveTraining

SESSION_TYPES = (Connection, DescentSession, LiveTraining, Trainer)


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
    settled(lambda: live_sessions() == 0, "the first sessions to end")
    baseline, memory = threading.active_count(), resident_mb()
    for k in range(200):
        (drop_training if k % 20 == 0 else drop_descent)()
    settled(lambda: threading.active_count() <= baseline, "the threads to end")
    settled(lambda: live_sessions() == 0, "the sessions to go")  # no connection, session or trainer
    assert resident_mb() - memory < 40  # and the memory is back near where it was
    # the server is idle again: a new client is served
    with connect(ws_url(live_server, "/ws/descent")) as ws:
        ws.send(json.dumps({"type": "start", "surface": "bowl", "speed": 0}))
        while json.loads(ws.recv(timeout=60)).get("state") != "converged":
            pass


def test_a_training_never_stalls_another_sessions_stream(live_server, mnist):
    """Training runs off the event loop: a descent beside it keeps getting its frames.

    Judged by order, not by time: the descent's frames keep coming while the network
    trains, between one training progress message and a later one (a training run
    on the loop would hold every frame back until it had finished).
    """
    trained, ended = [], threading.Event()

    def read_all(socket):  # a client that keeps up, so the training keeps going
        try:
            while True:
                message = json.loads(socket.recv())
                trained.extend([s["step"] for s in message.get("steps", [])][-1:])
                if message.get("state") in ("finished", "stopped"):
                    ended.set()
        except Exception:  # closed at the end of the test
            pass

    with connect(ws_url(live_server, "/ws/train")) as trainer:
        trainer.send(json.dumps({"type": "start", "epochs": 1000, "batch_size": 10}))
        reader = threading.Thread(target=read_all, args=(trainer,), daemon=True)
        reader.start()
        settled(lambda: trained, "the training's first steps")
        with connect(ws_url(live_server, "/ws/descent")) as ws:
            ws.send(json.dumps({"type": "start", "speed": 600, "max_steps": 1_000_000,
                                "runs": [{"id": "a", "lr": 1e-7}]}))  # fmt: skip
            frames, before = 0, trained[-1]
            while frames < 30:
                frames += json.loads(ws.recv(timeout=60))["type"] == "steps"
            settled(lambda: trained[-1] > before, "more training")
            assert not ended.is_set()  # 30 frames came while the network was still training
        trainer.send(json.dumps({"type": "stop"}))


def settled(condition, what, timeout=60.0):
    """Poll ``condition()`` until true; the deadline only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came")
        time.sleep(0.01)
