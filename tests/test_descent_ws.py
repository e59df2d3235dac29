"""The /ws/descent protocol: every message, every error path, nothing non-finite on the wire."""

import json
import math

import pytest

from app.surfaces import SURFACES


def receive_until(ws, done, limit=100_000):
    """Collect messages until ``done(message)``; json.loads with a strict NaN check."""
    messages = []
    for _ in range(limit):
        text = ws.receive_text()
        message = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} on the wire"))
        messages.append(message)
        if done(message):
            return messages
    raise AssertionError("never finished")


def ended(message):
    return message["type"] == "status" and message["state"] not in ("running", "paused")


def steps_of(messages, run="a"):
    return [s for m in messages if m["type"] == "steps" and m["run"] == run for s in m["steps"]]


def test_start_with_defaults_streams_every_step_once_in_order(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "speed": 0})
        messages = receive_until(ws, ended)
    steps = steps_of(messages)
    assert [s["i"] for s in steps] == list(range(len(steps)))
    himmelblau = SURFACES["himmelblau"]
    assert (steps[0]["x"], steps[0]["y"]) == tuple(himmelblau.default_start)
    assert steps[1]["lr"] == himmelblau.default_lr
    assert messages[-1]["state"] == "converged"
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["x"] == before["x"] - after["lr"] * before["g"][0]


def test_max_steps_then_status(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "rosenbrock", "max_steps": 40, "speed": 0})
        messages = receive_until(ws, ended)
    assert [s["i"] for s in steps_of(messages)] == list(range(41))
    assert messages[-1]["state"] == "max_steps"


def test_diverged_run_sends_no_bad_step(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(
            {"type": "start", "surface": "bowl", "speed": 0, "runs": [{"id": "a", "lr": 5}]}
        )
        messages = receive_until(ws, ended)
    assert messages[-1]["state"] == "diverged"
    assert "learning rate" in messages[-1]["reason"]
    assert all(abs(s["x"]) <= 1e6 for s in steps_of(messages))


def test_paused_start_then_step_resume_pause(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "bowl", "paused": True})
        first = receive_until(ws, lambda m: m["type"] == "status")
        assert [s["i"] for s in steps_of(first)] == [0] and first[-1]["state"] == "paused"
        ws.send_json({"type": "step", "n": 3})
        stepped = receive_until(ws, lambda m: m["type"] == "steps")
        assert [s["i"] for s in steps_of(stepped)] == [1, 2, 3]
        ws.send_json({"type": "set", "speed": 0})
        ws.send_json({"type": "resume"})
        rest = receive_until(ws, ended)
        assert any(m["type"] == "status" and m["state"] == "running" for m in rest)
        assert steps_of(rest)[0]["i"] == 4


def test_set_lr_changes_only_later_steps(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "bowl", "paused": True, "runs": [{"lr": 0.01}]})
        receive_until(ws, lambda m: m["type"] == "status")
        ws.send_json({"type": "step", "n": 2})
        before = steps_of(receive_until(ws, lambda m: m["type"] == "steps"))
        ws.send_json({"type": "set", "lr": 0.3, "run": "a"})
        ws.send_json({"type": "step", "n": 2})
        after = steps_of(receive_until(ws, lambda m: m["type"] == "steps"))
    assert [s["lr"] for s in before] == [0.01, 0.01]
    assert [s["lr"] for s in after] == [0.3, 0.3]
    assert after[0]["x"] == before[-1]["x"] - 0.3 * before[-1]["g"][0]


def test_move_restarts_at_step_zero_then_running(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "paused": True})
        receive_until(ws, lambda m: m["type"] == "status")
        ws.send_json({"type": "move", "run": "a", "start": [1.5, -2.0]})
        messages = receive_until(ws, lambda m: m["type"] == "status")
        assert steps_of(messages)[0]["i"] == 0
        assert (steps_of(messages)[0]["x"], steps_of(messages)[0]["y"]) == (1.5, -2.0)
        assert messages[-1]["state"] == "running"
        ws.send_json({"type": "stop"})
        rest = receive_until(ws, lambda m: m["type"] == "status")
        assert rest[-1]["state"] == "stopped"


def test_several_runs_are_independent(client):
    runs = [
        {"id": "gd", "start": [0, 0], "optimizer": "gd", "lr": 0.01},
        {"id": "adam", "start": [0, 0], "optimizer": "adam", "lr": 0.1},
        {"id": "far", "start": [-4, -4], "optimizer": "gd", "lr": 0.01},
    ]
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "runs": runs, "speed": 0, "max_steps": 500})
        finished = set()
        messages = receive_until(
            ws, lambda m: ended(m) and (finished.add(m["run"]) or len(finished) == 3)
        )
    gd, adam, far = (steps_of(messages, r) for r in ("gd", "adam", "far"))
    assert gd[1]["x"] != adam[1]["x"]
    assert math.hypot(far[-1]["x"] + 3.78, far[-1]["y"] + 3.28) < 0.01  # its own pit
    assert gd[1]["lr"] == 0.01 and adam[1]["lr"] == 0.1


BAD = [
    ("{nope", "not valid JSON"),
    ("[1, 2]", "JSON object"),
    ('{"type": "warp"}', "unknown message type"),
    ('{"type": "set", "lr": NaN}', "NaN"),
    ('{"type": "set", "lr": Infinity}', "Infinity"),
    ('{"type": "set", "lr": 1e999}', "finite"),
    ('{"type": "set", "lr": -0.1}', "greater than 0"),
    ('{"type": "set", "lr": 1e9}', "less than or equal"),
    ('{"type": "set", "lr": "fast"}', "lr"),
    ('{"type": "set", "run": "zz", "lr": 0.1}', "no run with id 'zz'"),
    ('{"type": "move", "start": [1e7, 0]}', "less than or equal"),
    ('{"type": "move"}', "start"),
    ('{"type": "start", "surface": "moon"}', "surface"),
    ('{"type": "start", "runs": [{"optimizer": "newton"}]}', "optimizer"),
    ('{"type": "start", "runs": [{"optimizer": "adam", "hyper": {"momentum": 0.5}}]}', "adam"),
    ('{"type": "start", "runs": [{"id": "x"}, {"id": "x"}]}', "share the id"),
    ('{"type": "start", "max_steps": 0}', "max_steps"),
    ('{"type": "start", "runs": []}', "runs"),
    ('{"type": "step", "n": 0}', "n"),
    ('{"type": "pause", "extra": 1}', "extra"),
]


def test_every_bad_message_gets_an_error_and_the_run_survives(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "bowl", "paused": True})
        receive_until(ws, lambda m: m["type"] == "status")
        for text, expected in BAD:
            ws.send_text(text)
            reply = receive_until(ws, lambda m: m["type"] == "error")[-1]
            assert expected.lower() in reply["message"].lower(), (text, reply)
        ws.send_text("x" * 70_000)
        assert "too large" in receive_until(ws, lambda m: m["type"] == "error")[-1]["message"]
        many = {"type": "start", "runs": [{"id": str(k)} for k in range(17)]}
        ws.send_json(many)
        assert "runs" in receive_until(ws, lambda m: m["type"] == "error")[-1]["message"]
        ws.send_json({"type": "step", "n": 2})
        steps = steps_of(receive_until(ws, lambda m: m["type"] == "steps"))
        assert [s["i"] for s in steps] == [1, 2]


def test_hyper_can_be_set_live(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "paused": True, "runs": [{"optimizer": "momentum"}]})
        receive_until(ws, lambda m: m["type"] == "status")
        ws.send_json({"type": "set", "hyper": {"momentum": 0.5}})
        ws.send_json({"type": "set", "hyper": {"momentum": 2}})
        assert "momentum" in receive_until(ws, lambda m: m["type"] == "error")[-1]["message"]
        ws.send_json({"type": "step", "n": 1})
        assert steps_of(receive_until(ws, lambda m: m["type"] == "steps"))[0]["i"] == 1


def test_paced_speed_sends_batched_frames(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "rosenbrock", "speed": 600, "max_steps": 120})
        messages = receive_until(ws, ended)
    frames = [m for m in messages if m["type"] == "steps"]
    assert len(steps_of(messages)) == 121
    assert 3 <= len(frames) <= 40  # ~10 steps a frame at 600 steps/s and 60 frames/s


def test_foreign_origin_is_refused_at_the_handshake(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as refused:
        with client.websocket_connect("/ws/descent", headers={"origin": "http://evil.example"}):
            pass
    assert refused.value.code == 1008
    with client.websocket_connect(
        "/ws/descent", headers={"origin": "http://testserver"}
    ) as ws:  # same origin
        ws.send_json({"type": "start", "paused": True})
        assert receive_until(ws, lambda m: m["type"] == "status")[-1]["state"] == "paused"
