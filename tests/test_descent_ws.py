"""The /ws/descent protocol: every message, every error path, nothing non-finite on the wire."""

import asyncio
import json
import math
import time

import pytest
from starlette.websockets import WebSocketDisconnect

from app.surfaces import SURFACES
from app.web.connection import MAX_QUEUED
from app.web.descent_schemas import descent_messages
from app.web.descent_ws import CHUNK, FRAME, MAX_FRAME_GAP, DescentConnection, DescentSession
from app.web.ws_common import (
    BadMessage,
    dumps,
    error,
    parse_message,
    run_until_one_ends,
)

# --- helpers -----------------------------------------------------------------------------


def strict_loads(text):
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} on the wire: {text[:80]}"))


def receive_until(ws, done, limit=100_000):
    """Collect messages up to and including the first for which ``done(message)``.

    A run that ends first fails the test at once (instead of waiting forever for a
    message that will not come), unless ``done`` waits for ends itself.
    """
    messages = []
    for _ in range(limit):
        message = strict_loads(ws.receive_text())
        messages.append(message)
        if done(message):
            return messages
        if message["type"] == "status" and message["state"] in ENDED:
            assert getattr(done, "ends_ok", False), f"the run ended first: {message}"
    raise AssertionError(f"no end after {limit} messages")


def is_status(*states, run=None):
    return lambda m: (
        m["type"] == "status" and m["state"] in states and (run is None or m["run"] == run)
    )


ENDED = ("converged", "diverged", "max_steps", "stopped")
# a run that would take many seconds: tests stop it long before it ends
LONG_RUN = {"type": "start", "surface": "rosenbrock", "speed": 0, "max_steps": 10**6,
            "runs": [{"lr": 1e-5}]}  # fmt: skip


def until_all_ended(run_ids):
    left = set(run_ids)

    def done(message):
        if message["type"] == "status" and message["state"] in ENDED:
            left.discard(message["run"])
        return not left

    done.ends_ok = True
    return done


def barrier(ws):
    """Send a message that only an error answers; return everything received before it."""
    ws.send_text('{"type": "barrier"}')
    messages = receive_until(ws, lambda m: m["type"] == "error")
    assert "unknown message type 'barrier'" in messages[-1]["message"]
    return messages[:-1]


def steps_of(messages, run="a"):
    return [s for m in messages if m["type"] == "steps" and m["run"] == run for s in m["steps"]]


def start_paused(ws, **fields):
    ws.send_json({"type": "start", "paused": True, **fields})
    ids = [r.get("id", "abcdefghijklmnop"[k]) for k, r in enumerate(fields.get("runs", [{}]))]
    messages = receive_until(ws, lambda m: m["type"] == "status" and m["run"] == ids[-1])
    assert [m["state"] for m in messages if m["type"] == "status"] == ["paused"] * len(ids)
    return messages


class FakeClient:
    """A client inside the test: feeds the session messages, records what it is sent.

    ``acking``: acknowledge every message as it arrives, as the page does.
    """

    def __init__(self, *messages, acking=False):
        self.inbox = asyncio.Queue()
        for message in messages:
            self.send(message)
        self.sent = []
        self.acked = 0
        self.acking = acking

    def send(self, message):
        self.inbox.put_nowait(message if isinstance(message, str) else json.dumps(message))

    async def receive(self):
        return {"type": "websocket.receive", "text": await self.inbox.get()}

    async def send_text(self, text):
        self.sent.append(strict_loads(text))
        if self.acking:
            self.acked = len(self.sent)
            self.send({"type": "ack", "received": self.acked})
        await asyncio.sleep(0)


async def until(condition, what="the condition", timeout=60.0):
    """Poll ``condition()`` until true; the deadline only guards against a hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} never came")
        await asyncio.sleep(0.002)


def serving(connection):
    """Serve ``connection`` in a task (``finish`` it at the end)."""
    return asyncio.ensure_future(connection.serve())


async def finish(task):
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def assert_gd_rule(steps, surface):
    """Each step is exactly one gd update from the one before, with the lr it carries."""
    assert [s["i"] for s in steps] == list(range(steps[0]["i"], steps[0]["i"] + len(steps)))
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["x"] == before["x"] - after["lr"] * before["g"][0]
        assert after["y"] == before["y"] - after["lr"] * before["g"][1]
    for step in steps:
        assert step["f"] == float(surface.value(step["x"], step["y"]))
        assert step["g"] == [float(g) for g in surface.gradient(step["x"], step["y"])]
        assert set(step) == {"i", "x", "y", "f", "g", "lr"}


# --- start, and what every run sends -----------------------------------------------------


def test_start_with_defaults_runs_himmelblau_from_its_default_start(client):
    himmelblau = SURFACES["himmelblau"]
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "speed": 0})
        messages = receive_until(ws, until_all_ended("a"))
    steps = steps_of(messages)
    assert steps[0] == {
        "i": 0,
        "x": himmelblau.default_start[0],
        "y": himmelblau.default_start[1],
        "f": float(himmelblau.value(*himmelblau.default_start)),
        "g": [float(g) for g in himmelblau.gradient(*himmelblau.default_start)],
        "lr": None,
    }
    assert {s["lr"] for s in steps[1:]} == {himmelblau.default_lr}
    assert_gd_rule(steps, himmelblau)
    assert messages[1] == {"type": "status", "run": "a", "state": "running", "reason": ""}
    assert messages[-1]["state"] == "converged" and "|∇f|" in messages[-1]["reason"]
    assert math.hypot(*steps[-1]["g"]) < 1e-6
    assert {m["type"] for m in messages} == {"steps", "status"}


def test_default_max_steps_is_2000_and_counts_updates(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "rosenbrock", "speed": 0})
        messages = receive_until(ws, until_all_ended("a"))
    assert [s["i"] for s in steps_of(messages)] == list(range(2001))
    assert messages[-1]["state"] == "max_steps" and "2,000" in messages[-1]["reason"]
    assert_gd_rule(steps_of(messages), SURFACES["rosenbrock"])


def test_max_steps_then_status_and_nothing_more(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "rosenbrock", "max_steps": 40, "speed": 0})
        messages = receive_until(ws, until_all_ended("a"))
        assert barrier(ws) == []
    assert [s["i"] for s in steps_of(messages)] == list(range(41))
    assert messages[-1] == {
        "type": "status",
        "run": "a",
        "state": "max_steps",
        "reason": "reached the step limit (40 steps)",
    }


@pytest.mark.parametrize(
    ("surface", "lr", "words"),
    [("bowl", 5.0, "learning rate 5 too large"), ("saddle", 0.05, "keeps falling")],
)
def test_diverged_run_sends_no_bad_step_and_says_why(client, surface, lr, words):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": surface, "speed": 0, "runs": [{"lr": lr}]})
        messages = receive_until(ws, until_all_ended("a"))
    assert messages[-1]["state"] == "diverged"
    assert words in messages[-1]["reason"] and "> 1e6" in messages[-1]["reason"]
    steps = steps_of(messages)
    assert all(abs(s["x"]) <= 1e6 and abs(s["y"]) <= 1e6 for s in steps)
    assert f"at step {len(steps)}" in messages[-1]["reason"]  # the step that was not sent
    assert_gd_rule(steps, SURFACES[surface])


def test_start_on_a_minimum_converges_at_step_zero(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "bowl", "runs": [{"start": [0, 0]}]})
        messages = receive_until(ws, until_all_ended("a"))
    assert [s["i"] for s in steps_of(messages)] == [0]
    assert messages[-1]["state"] == "converged"


def test_several_runs_are_independent(client):
    runs = [
        {"id": "gd", "start": [0, 0], "optimizer": "gd", "lr": 0.01},
        {"id": "adam", "start": [0, 0], "optimizer": "adam", "lr": 0.1, "hyper": {"eps": 1e-6}},
        {"id": "far", "start": [-4, -4], "optimizer": "momentum", "lr": 0.001},
    ]
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "runs": runs, "speed": 0, "max_steps": 500})
        messages = receive_until(ws, until_all_ended(["gd", "adam", "far"]))
    gd, adam, far = (steps_of(messages, r) for r in ("gd", "adam", "far"))
    for steps in (gd, adam, far):
        assert [s["i"] for s in steps] == list(range(len(steps)))
    assert_gd_rule(gd, SURFACES["himmelblau"])
    assert gd[1]["x"] != adam[1]["x"]
    assert {s["lr"] for s in adam[1:]} == {0.1} and {s["lr"] for s in far[1:]} == {0.001}
    assert math.hypot(far[-1]["x"] + 3.779, far[-1]["y"] + 3.283) < 0.01  # its own pit
    assert math.hypot(gd[-1]["x"] - 3, gd[-1]["y"] - 2) < 0.01


def test_a_new_start_replaces_the_runs(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(LONG_RUN)
        receive_until(ws, lambda m: m["type"] == "steps" and m["steps"][-1]["i"] > 100)
        ws.send_json({"type": "start", "surface": "bowl", "speed": 0, "runs": [{"id": "b"}]})
        messages = receive_until(ws, until_all_ended("b"))
        assert barrier(ws) == []
    new = steps_of(messages, "b")
    assert [s["i"] for s in new] == list(range(len(new)))
    assert (new[0]["x"], new[0]["y"]) == SURFACES["bowl"].default_start
    first_new = messages.index(next(m for m in messages if m.get("run") == "b"))
    assert all(m.get("run") == "b" for m in messages[first_new:])  # "a" is gone for good


def test_paced_speed_sends_batched_frames(client):
    with client.websocket_connect("/ws/descent") as ws:
        began = time.perf_counter()
        ws.send_json({"type": "start", "surface": "rosenbrock", "speed": 600, "max_steps": 120})
        messages = receive_until(ws, until_all_ended("a"))
        seconds = time.perf_counter() - began
    frames = [m for m in messages if m["type"] == "steps"]
    assert [s["i"] for s in steps_of(messages)] == list(range(121))
    # bounds that hold however fast or slow the machine: never faster than the speed
    # (120 steps at 600 steps/s take 0.2 s), at most one frame per FRAME, and no frame
    # more than MAX_FRAME_GAP's worth of steps (~10 a frame at 60 frames/s)
    assert seconds > 0.15
    assert len(frames) <= seconds / FRAME + 2
    assert all(len(m["steps"]) <= 600 * MAX_FRAME_GAP + 1 for m in frames[1:])


# --- set, move, pause, step, resume, stop -------------------------------------------------


def test_paused_start_then_step_resume_pause_stop(client):
    with client.websocket_connect("/ws/descent") as ws:
        first = start_paused(ws, surface="bowl", speed=0)
        assert [s["i"] for s in steps_of(first)] == [0]
        ws.send_json({"type": "step", "n": 3})
        stepped = receive_until(ws, lambda m: m["type"] == "steps")
        assert [s["i"] for s in steps_of(stepped)] == [1, 2, 3]
        ws.send_json({"type": "step"})  # n defaults to 1
        stepped += receive_until(ws, lambda m: True)
        assert [s["i"] for s in steps_of(stepped)] == [1, 2, 3, 4]
        assert barrier(ws) == []  # paused: nothing else comes
        ws.send_json({"type": "resume"})
        rest = receive_until(ws, until_all_ended("a"))
        assert rest[0] == {"type": "status", "run": "a", "state": "running", "reason": ""}
        assert steps_of(rest)[0]["i"] == 5 and rest[-1]["state"] == "converged"
        assert_gd_rule(steps_of(first + stepped + rest), SURFACES["bowl"])


def test_pause_stops_the_stream_and_stop_ends_the_run(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(LONG_RUN)
        running = receive_until(ws, lambda m: m["type"] == "steps" and m["steps"][-1]["i"] > 100)
        ws.send_json({"type": "pause"})
        # the pause may come before another frame of steps: the last step is in either part
        before = running + receive_until(ws, is_status("paused"))
        assert barrier(ws) == []
        ws.send_json({"type": "step", "n": 2})
        stepped = steps_of(receive_until(ws, lambda m: m["type"] == "steps"))
        assert [s["i"] for s in stepped] == [steps_of(before)[-1]["i"] + 1, stepped[0]["i"] + 1]
        ws.send_json({"type": "stop"})
        stopped = receive_until(ws, is_status("stopped"))
        assert stopped == [
            {
                "type": "status",
                "run": "a",
                "state": "stopped",
                "reason": f"stopped at step {stepped[-1]['i']:,}",
            }
        ]
        ws.send_json({"type": "resume"})  # a stopped run stays stopped
        ws.send_json({"type": "step", "n": 5})
        assert barrier(ws) == []


def test_step_while_running_is_ignored(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "bowl", "speed": 0})
        ws.send_json({"type": "step", "n": 10_000})
        messages = receive_until(ws, until_all_ended("a"))
    assert [s["i"] for s in steps_of(messages)] == list(range(len(steps_of(messages))))


def test_set_lr_changes_only_later_steps(client):
    bowl = SURFACES["bowl"]
    with client.websocket_connect("/ws/descent") as ws:
        start_paused(ws, surface="bowl", runs=[{"lr": 0.01}])
        ws.send_json({"type": "step", "n": 2})
        before = steps_of(receive_until(ws, lambda m: m["type"] == "steps"))
        ws.send_json({"type": "set", "lr": 0.3, "run": "a"})
        assert barrier(ws) == []  # set answers nothing
        ws.send_json({"type": "step", "n": 2})
        after = steps_of(receive_until(ws, lambda m: m["type"] == "steps"))
    assert [s["lr"] for s in before] == [0.01, 0.01]
    assert [s["lr"] for s in after] == [0.3, 0.3]
    assert_gd_rule(before + after, bowl)


def test_set_lr_while_running_switches_once_between_two_steps(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(LONG_RUN)
        early = receive_until(ws, lambda m: m["type"] == "steps" and m["steps"][-1]["i"] > 50)
        ws.send_json({"type": "set", "lr": 2e-5})
        # (receive_until fails if the run ends first: a sender that never yielded would
        # starve the receiver until the run's 1,000,000 steps were done)
        late = receive_until(ws, lambda m: m["type"] == "steps" and m["steps"][-1]["lr"] == 2e-5)
        ws.send_json({"type": "stop"})
        rest = receive_until(ws, is_status("stopped"))
    steps = steps_of(early + late + rest)
    lrs = [s["lr"] for s in steps[1:]]
    switch = lrs.index(2e-5)
    assert set(lrs[:switch]) == {1e-5} and set(lrs[switch:]) == {2e-5}
    assert_gd_rule(steps, SURFACES["rosenbrock"])
    assert steps[-1]["i"] < 10**6


def test_set_for_one_run_leaves_the_others_alone_and_speed_hyper_apply(client):
    runs = [{"id": "m", "optimizer": "momentum", "lr": 0.001}, {"id": "g", "lr": 0.001}]
    with client.websocket_connect("/ws/descent") as ws:
        start_paused(ws, surface="bowl", runs=runs)
        ws.send_json({"type": "set", "run": "m", "lr": 0.002, "hyper": {"momentum": 0.5}})
        ws.send_json({"type": "step", "n": 2})
        messages = receive_until(ws, lambda m: m["type"] == "steps" and m["run"] == "g")
        m, g = steps_of(messages, "m"), steps_of(messages, "g")
        assert [s["lr"] for s in m] == [0.002, 0.002] and [s["lr"] for s in g] == [0.001, 0.001]
        x0 = SURFACES["bowl"].default_start[0]
        b1 = 2 * x0  # momentum 0.5: b = 0.5·b + g
        b2 = 0.5 * b1 + m[0]["g"][0]
        assert m[1]["x"] == pytest.approx(x0 - 0.002 * b1 - 0.002 * b2, rel=1e-14)
        ws.send_json({"type": "set", "speed": 0, "lr": 0.1})  # every run
        ws.send_json({"type": "resume"})
        rest = receive_until(ws, until_all_ended(["m", "g"]))
    assert {s["lr"] for s in steps_of(rest, "m") + steps_of(rest, "g")} == {0.1}
    assert [m["state"] for m in rest if m["type"] == "status"][-2:] == ["converged"] * 2


def test_move_restarts_at_step_zero_then_running(client):
    himmelblau = SURFACES["himmelblau"]
    with client.websocket_connect("/ws/descent") as ws:
        start_paused(ws, speed=0, runs=[{"optimizer": "momentum"}])
        ws.send_json({"type": "step", "n": 5})
        receive_until(ws, lambda m: m["type"] == "steps")
        ws.send_json({"type": "move", "run": "a", "start": [1.5, -2.0]})
        messages = receive_until(ws, until_all_ended("a"))
    assert messages[0]["steps"] == [
        {
            "i": 0,
            "x": 1.5,
            "y": -2.0,
            "f": float(himmelblau.value(1.5, -2.0)),
            "g": [float(g) for g in himmelblau.gradient(1.5, -2.0)],
            "lr": None,
        }
    ]
    assert messages[1] == {"type": "status", "run": "a", "state": "running", "reason": ""}
    steps = steps_of(messages)
    assert [s["i"] for s in steps] == list(range(len(steps)))
    # fresh momentum: the first update is a plain gd step
    assert steps[1]["x"] == 1.5 - himmelblau.default_lr * steps[0]["g"][0]


def test_move_revives_an_ended_run(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "bowl", "speed": 0, "runs": [{"lr": 5}]})
        receive_until(ws, until_all_ended("a"))
        ws.send_json({"type": "set", "lr": 0.1})
        ws.send_json({"type": "move", "start": [1, 1]})  # run defaults to "a"
        messages = receive_until(ws, until_all_ended("a"))
    assert steps_of(messages)[0]["i"] == 0 and messages[-1]["state"] == "converged"


# --- bad messages ---------------------------------------------------------------------------

BAD = [
    ("{nope", "not valid JSON"),
    ("", "not valid JSON"),
    ("[1, 2]", 'JSON object with a "type"'),
    ('{"lr": 0.1}', 'JSON object with a "type"'),
    ('{"type": 5}', 'JSON object with a "type"'),
    ('{"type": "warp"}', "unknown message type 'warp'"),
    ('{"type": "set", "lr": NaN}', "NaN is not a number gdviz accepts"),
    ('{"type": "set", "lr": Infinity}', "Infinity is not a number"),
    ('{"type": "set", "lr": -Infinity}', "-Infinity is not a number"),
    ('{"type": "set", "lr": 1e999}', "1e999 is too large"),
    ('{"type": "step", "n": ' + "9" * 5000 + "}", "with 5,000 digits is too long"),
    ("[" * 20_000 + "]" * 20_000, "nested too deeply"),
    ('{"type": "set", "lr": 0}', "lr should be greater than 0, not 0"),
    ('{"type": "set", "lr": -0.1}', "lr should be greater than 0, not -0.1"),
    ('{"type": "set", "lr": 1001}', "lr should be less than or equal to 1000"),
    ('{"type": "set", "lr": "0.1"}', 'lr should be a valid number, not "0.1"'),
    ('{"type": "set", "lr": true}', "lr should be a valid number"),
    ('{"type": "set"}', "a set message needs lr, speed or hyper"),
    ('{"type": "set", "speed": -1}', "speed should be greater than or equal to 0"),
    ('{"type": "set", "speed": 100001}', "speed should be less than or equal to 100000"),
    ('{"type": "set", "run": "zz", "lr": 0.1}', "no run with id 'zz' (the runs are a)"),
    ('{"type": "set", "run": "<b>", "lr": 0.1}', "run: a run id is 1 to 32 letters, digits"),
    ('{"type": "set", "hyper": {"beta": 0.9}}', "hyper.beta: no such field in a 'set' message"),
    ('{"type": "set", "hyper": {"momentum": 0.5}}', "gd has no hyper-parameter momentum"),
    ('{"type": "move", "start": [1e7, 0]}', "start[0] should be less than or equal to 1000000"),
    ('{"type": "move", "start": [0, -2e6]}', "start[1] should be greater than or equal to"),
    ('{"type": "move", "start": [1, 2, 3]}', "start should have at most 2 items"),
    ('{"type": "move", "start": [1, 1e999]}', "1e999 is too large"),
    ('{"type": "move"}', "start is missing"),
    ('{"type": "move", "run": "q", "start": [1, 1]}', "no run with id 'q'"),
    ('{"type": "start", "surface": "moon"}', "surface should be 'bowl', 'ravine'"),
    ('{"type": "start", "runs": [{"optimizer": "newton"}]}', "runs[0].optimizer should be"),
    ('{"type": "start", "runs": [{"lr": 0.1, "colour": 1}]}', "runs[0].colour: no such field"),
    ('{"type": "start", "runs": [{"optimizer": "adam", "hyper": {"momentum": 0.5}}]}',
     "run 'a': adam has no hyper-parameter momentum (allowed: betas, eps)"),
    ('{"type": "start", "runs": [{"optimizer": "momentum", "hyper": {"momentum": 1.5}}]}',
     "momentum must lie in [0, 1)"),
    ('{"type": "start", "runs": [{"optimizer": "adam", "hyper": {"betas": 0.5}}]}',
     "runs[0].hyper.betas should be a valid list"),
    ('{"type": "start", "runs": [{"optimizer": "adam", "hyper": {"betas": [0.9]}}]}',
     "runs[0].hyper.betas should have at least 2 items"),
    ('{"type": "start", "runs": [{"optimizer": "adam", "hyper": {"betas": [0.9, 1.0]}}]}',
     "betas must both lie in [0, 1)"),
    ('{"type": "start", "runs": [{"id": "x"}, {"id": "x"}]}', "two runs share the id 'x'"),
    ('{"type": "start", "runs": [{"id": "b"}, {}]}', "two runs share the id 'b'"),
    ('{"type": "start", "runs": [{"start": [2e6, 0]}]}', "runs[0].start[0] should be less"),
    ('{"type": "start", "max_steps": 0}', "max_steps should be greater than or equal to 1"),
    ('{"type": "start", "max_steps": 1000001}', "max_steps should be less than or equal to"),
    ('{"type": "start", "max_steps": 10.5}', "max_steps should be a valid integer"),
    ('{"type": "start", "runs": []}', "runs should have at least 1 item"),
    ('{"type": "start", "paused": "yes"}', "paused should be a valid boolean"),
    ('{"type": "step", "n": 0}', "n should be greater than or equal to 1"),
    ('{"type": "step", "n": 10001}', "n should be less than or equal to 10000"),
    ('{"type": "pause", "extra": 1}', "extra: no such field in a 'pause' message"),
]  # fmt: skip


def test_every_bad_message_gets_an_error_and_the_connection_and_run_survive(client):
    with client.websocket_connect("/ws/descent") as ws:
        start_paused(ws, surface="bowl")
        for text, expected in BAD:
            ws.send_text(text)
            replies = receive_until(ws, lambda m: True)
            assert replies[0]["type"] == "error", (text, replies)
            assert expected in replies[0]["message"], (text, replies[0]["message"])
            assert set(replies[0]) == {"type", "message"}
        ws.send_json({"type": "step", "n": 2})  # the paused run is untouched: it goes on at 1
        assert [s["i"] for s in steps_of(receive_until(ws, lambda m: True))] == [1, 2]
        ws.send_json({"type": "set", "speed": 0})
        ws.send_json({"type": "resume"})
        rest = receive_until(ws, until_all_ended("a"))
        assert rest[-1]["state"] == "converged" and steps_of(rest)[0]["i"] == 3


def test_limits_too_large_too_many_runs_and_binary_frames(client):
    with client.websocket_connect("/ws/descent") as ws:
        start_paused(ws, surface="bowl")
        for big in ("x" * 70_000, "€" * 30_000):  # 70,000 chars; 30,000 chars but 90,000 bytes
            ws.send_text(big)
            message = receive_until(ws, lambda m: True)[0]["message"]
            assert message.startswith("message too large") and "65,536 bytes" in message
        ws.send_json({"type": "start", "runs": [{"id": f"r{k}"} for k in range(17)]})
        reply = receive_until(ws, lambda m: True)[0]
        assert reply["message"] == "runs should have at most 16 items, not 17"
        ws.send_bytes(b"\xff\xfe")
        assert "UTF-8" in receive_until(ws, lambda m: True)[0]["message"]
        ws.send_bytes(b'{"type": "step", "n": 1}')  # JSON in a binary frame is fine
        assert [s["i"] for s in steps_of(receive_until(ws, lambda m: True))] == [1]
        ws.send_json({"type": "start", "surface": "bowl", "runs": [{}] * 16, "speed": 0})
        ids = list("abcdefghijklmnop")
        messages = receive_until(ws, until_all_ended(ids))
    assert {m["run"] for m in messages if m["type"] == "steps"} == set(ids)


@pytest.mark.parametrize("kind", ["set", "move", "step", "pause", "resume", "stop"])
def test_messages_before_any_start_are_explained(client, kind):
    message = {"type": kind, **({"lr": 0.1} if kind == "set" else {})}
    if kind == "move":
        message["start"] = [1, 1]
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(message)
        reply = receive_until(ws, lambda m: True)[0]
    assert reply == error('there are no runs yet: send {"type": "start"} first')


def test_a_set_that_fails_for_one_run_changes_no_run(client):
    runs = [{"id": "m", "optimizer": "momentum"}, {"id": "g"}]
    with client.websocket_connect("/ws/descent") as ws:
        start_paused(ws, surface="bowl", runs=runs)
        ws.send_json({"type": "set", "lr": 0.5, "hyper": {"momentum": 0.1}})
        reply = receive_until(ws, lambda m: True)[0]
        assert reply == error("run 'g': gd has no hyper-parameter momentum (allowed: none)")
        ws.send_json({"type": "step"})
        messages = receive_until(ws, lambda m: m["type"] == "steps" and m["run"] == "g")
    assert {s["lr"] for s in steps_of(messages, "m") + steps_of(messages, "g")} == {0.1}


# --- the wire, and the connection's life ---------------------------------------------------


def test_nan_never_reaches_the_wire_a_bug_raises_instead(client, monkeypatch):
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        dumps({"type": "steps", "steps": [{"f": math.nan}]})
    with pytest.raises(ValueError):
        dumps({"x": math.inf})

    def broken_first_step(self):
        return {"i": 0, "x": math.nan, "y": 0.0, "f": 0.0, "g": [0.0, 0.0], "lr": None}

    monkeypatch.setattr("app.descent.DescentRun.first_step", broken_first_step)
    with pytest.raises(ValueError, match="not JSON compliant"):
        with client.websocket_connect("/ws/descent") as ws:
            ws.send_json({"type": "start"})
            ws.receive_text()  # the server fails loudly; it never sends the NaN


def test_disconnect_stops_all_work(client, monkeypatch):
    """The tasks that computed frames are over once the client has gone."""
    producers = set()
    produce = DescentSession.produce

    def watched(self, *args, **kwargs):
        producers.add(asyncio.current_task())
        return produce(self, *args, **kwargs)

    monkeypatch.setattr(DescentSession, "produce", watched)
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(LONG_RUN)
        receive_until(ws, lambda m: m["type"] == "steps" and m["steps"][-1]["i"] > 1000)
    # leaving the block waits for the server's handler to return
    assert producers and all(task.done() for task in producers)


def test_the_sender_yields_between_frames_even_when_sends_never_block():
    """uvicorn's send returns at once while the socket has room: the frame loop must yield.

    (TestClient's sends always yield, so only a client like this one shows starvation.)
    A sender that never yielded would read the ``set`` only after the run's end.
    """

    class EagerClient(FakeClient):
        async def send_text(self, text):  # no await: never yields
            self.sent.append(strict_loads(text))
            if len(self.sent) == 3:  # the first frame of steps after the start is out
                self.send({"type": "set", "lr": 2e-5})

    async def scenario():
        client = EagerClient({**LONG_RUN, "max_steps": 300_000})
        task = serving(DescentConnection(client))

        def switched_or_ended():
            last = client.sent[-1] if client.sent else {}
            return (
                last.get("type") == "status"
                and last["state"] != "running"
                or any(s["lr"] == 2e-5 for s in last.get("steps", []))
            )

        await until(switched_or_ended, "the set's effect or the run's end")
        await finish(task)
        return client.sent

    sent = asyncio.run(scenario())
    assert 2e-5 in [s["lr"] for s in sent[-1].get("steps", [])], "the run ended before the set"
    assert [m["type"] for m in sent[1:]] == ["status"] + ["steps"] * (len(sent) - 2)


def test_a_client_that_sends_but_never_reads_is_no_longer_read_from():
    """Errors owed to the client pile up to MAX_QUEUED; then the server stops reading."""

    class StuckClient:
        received = 0

        async def receive(self):
            self.received += 1
            await asyncio.sleep(0)
            return {"type": "websocket.receive", "text": '{"type": "nope"}'}

        async def send_text(self, text):
            await asyncio.Event().wait()  # the client never reads: this never completes

    async def scenario():
        connection = DescentConnection(StuckClient())
        task = serving(connection)
        await until(lambda: len(connection.outbox) >= MAX_QUEUED, "a full outbox")
        counts = connection.websocket.received, len(connection.outbox)
        for _ in range(100):  # one loop turn per message read: 100 more, if it still read
            await asyncio.sleep(0)
        later = connection.websocket.received, len(connection.outbox)
        await finish(task)
        return counts, later

    (received, queued), later = asyncio.run(scenario())
    assert queued == MAX_QUEUED and received == queued + 1  # one is stuck in send
    assert later == (received, queued)  # and reading has stopped


def test_run_until_one_ends_cancels_the_rest_and_reraises_bugs():
    cancelled = []

    async def forever():
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def client_leaves():
        raise WebSocketDisconnect(1000)

    async def bug():
        await asyncio.sleep(0)
        raise RuntimeError("a bug")

    asyncio.run(run_until_one_ends(forever(), client_leaves()))
    assert cancelled == [True]
    with pytest.raises(RuntimeError, match="a bug"):
        asyncio.run(run_until_one_ends(forever(), bug()))
    assert cancelled == [True, True]


def test_foreign_origin_is_refused_at_the_handshake(client):
    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/descent", headers={"origin": "http://evil.example"}):
            pass
    assert refused.value.code == 1008
    with client.websocket_connect("/ws/descent", headers={"origin": "http://testserver"}) as ws:
        start_paused(ws)


# --- the session without a socket: pacing and batching ------------------------------------


def session_with(**start):
    session = DescentSession()
    session.handle(descent_messages.validate_python({"type": "start", **start}))
    session.outbox.clear()
    return session


def test_paced_runs_earn_speed_times_elapsed_steps_with_fractional_carry():
    session = session_with(surface="rosenbrock", speed=30, runs=[{"id": "a"}, {"id": "b"}])
    session.handle(parse_message('{"type": "set", "run": "b", "speed": 90}', descent_messages))
    for _ in range(4):
        session.produce(1 / 60)  # a: 0.5 a frame, b: 1.5 a frame
    counts = {run: len(steps_of(list(session.outbox), run)) for run in "ab"}
    assert counts == {"a": 2, "b": 6}
    session.outbox.clear()
    session.produce(5.0)  # a stall earns at most MAX_FRAME_GAP (0.1 s) of steps
    assert len(steps_of(list(session.outbox), "a")) <= 4


def test_full_speed_sends_one_steps_message_per_run_per_frame():
    session = session_with(surface="rosenbrock", speed=0, max_steps=10**6, runs=[{}] * 4)
    session.produce(1 / 60, budget=0.005)
    kinds = [(m["type"], m["run"]) for m in session.outbox]
    assert kinds == [("steps", run) for run in "abcd"]
    sizes = [len(m["steps"]) for m in session.outbox]
    assert min(sizes) >= CHUNK and max(sizes) - min(sizes) <= CHUNK  # fair turns


def test_a_run_that_ends_mid_frame_sends_its_steps_then_its_status():
    session = session_with(surface="bowl", speed=0, max_steps=5, runs=[{}, {"speed": 1}])
    session.produce(1 / 60)
    assert [(m["type"], m["run"]) for m in session.outbox] == [("steps", "a"), ("status", "a")]
    assert session.outbox[-1]["state"] == "max_steps"
    assert session.has_work  # "b" goes on at 1 step per second


def test_bad_messages_raise_bad_message_with_a_sentence():
    with pytest.raises(BadMessage, match=r"^unknown message type 'x' \(known: 'start', 'set'"):
        parse_message('{"type": "x"}', descent_messages)
    with pytest.raises(BadMessage, match="and 1 more problem$"):
        parse_message('{"type": "step", "n": 0, "a": 1, "b": 2, "c": 3}', descent_messages)


def test_an_acking_client_is_never_more_than_a_window_ahead_and_stop_still_answers():
    """A client that acks paces the stream: unacknowledged, the run waits for it."""

    async def scenario():
        client = FakeClient(LONG_RUN, acking=True)
        connection = DescentConnection(client)
        task = serving(connection)
        await until(lambda: len(client.sent) >= 10, "ten messages")
        client.acking = False  # from now on the client reads but says nothing
        # held: every ack read, and still the client is a window behind
        await until(lambda: client.inbox.empty() and not connection.ready(), "the window to fill")
        held = len(client.sent)
        for _ in range(100):  # full speed with acks sleeps 0 between frames: more would come
            await asyncio.sleep(0)
        still = len(client.sent)
        client.send({"type": "stop"})
        await until(lambda: client.sent[-1]["type"] == "status", "the stopped status")
        await finish(task)
        return client, connection.window, held, still

    client, window, held, still = asyncio.run(scenario())
    assert held - client.acked == window == 1 + 1  # a frame of the one run, and one more
    assert still == held
    assert client.sent[-1]["state"] == "stopped" and len(client.sent) == held + 1
    i = [s["i"] for s in steps_of(client.sent)]
    assert i == list(range(len(i)))  # every step, in order, none lost


def test_acks_beyond_what_was_sent_or_malformed_change_nothing(client):
    """An ack of more than was sent counts as what was sent (none), a malformed one is an
    error; the client, now acking, goes on acking what it gets, and its run streams."""
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "ack", "received": 10**6})  # more than was ever sent: clamped
        ws.send_json({"type": "ack", "received": -1})
        assert "received" in strict_loads(ws.receive_text())["message"]
        received = 1
        ws.send_json({"type": "ack", "received": received})
        ws.send_json({**LONG_RUN, "max_steps": 50})
        messages = []
        while not messages or not is_status(*ENDED)(messages[-1]):
            messages.append(strict_loads(ws.receive_text()))
            received += 1
            ws.send_json({"type": "ack", "received": received})
    assert is_status("max_steps")(messages[-1])
    assert steps_of(messages)[-1]["i"] == 50
