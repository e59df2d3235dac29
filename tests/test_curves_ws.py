"""1-D curves over the wire: GET /api/curves, and /ws/descent runs on a "curve"."""

from app.curves import CURVES
from app.descent import DescentRun
from tests.test_descent_ws import ENDED, is_status, receive_until, steps_of, strict_loads


def ended(message):
    return is_status(*ENDED)(message)


ended.ends_ok = True  # receive_until: an ending run is what is waited for


def test_curves_are_listed(client):
    response = client.get("/api/curves")
    assert response.status_code == 200
    listed = response.json()
    assert [c["name"] for c in listed] == list(CURVES)
    assert {"double_well", "quartic", "wavy"} <= set(CURVES)
    for c in listed:
        curve = CURVES[c["name"]]
        assert set(c) >= {"name", "title", "formula", "domain", "minima", "default_start",
                          "default_lr"}  # fmt: skip
        assert c["domain"] == list(curve.domain) and c["minima"] == curve.minima
        assert c["default_start"] == curve.default_start and c["default_lr"] == curve.default_lr
    quartic = next(c for c in listed if c["name"] == "quartic")
    assert quartic["formula"] == "f(x) = x⁴ − 3x³ + 2" and quartic["minima"] == [2.25]


def test_a_curve_run_streams_one_dimensional_steps(client):
    curve = CURVES["quartic"]
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "curve": "quartic", "speed": 0,
                      "runs": [{"start": 3.3, "lr": 0.01}]})  # fmt: skip
        messages = receive_until(ws, ended)
    assert messages[-1]["state"] == "converged"
    steps = steps_of(messages)
    assert all(set(s) == {"i", "x", "f", "g", "lr"} for s in steps)
    assert steps[0] == {"i": 0, "x": 3.3, "f": curve.value(3.3), "g": curve.derivative(3.3),
                        "lr": None}  # fmt: skip
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["i"] == before["i"] + 1
        assert after["x"] == before["x"] - 0.01 * before["g"]  # gd: x −= lr·f′(x)
        assert after["g"] == curve.derivative(after["x"])
    # the same run as the machinery's own, step for step
    single = list(DescentRun(curve.surface, (3.3, 0.0), "gd", 0.01, None, 2000))
    assert [(s["x"], s["f"], s["g"][0]) for s in single] == [
        (s["x"], s["f"], s["g"]) for s in steps
    ]
    assert abs(steps[-1]["x"] - 2.25) < 1e-6


def test_defaults_move_and_errors(client):
    well = CURVES["double_well"]
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "curve": "double_well", "paused": True})
        first = receive_until(ws, lambda m: m["type"] == "status")
        assert steps_of(first)[0]["x"] == well.default_start
        ws.send_json({"type": "move", "run": "a", "start": -1.9})
        after = receive_until(ws, ended)
        steps = steps_of(after)
        assert steps[0]["x"] == -1.9 and steps[0]["i"] == 0
        assert abs(steps[-1]["x"] - well.minima[0]) < 1e-6  # the left, deeper pit
        bad = [
            ({"type": "move", "run": "a", "start": [0.5, 0.5]}, "one number x"),
            ({"type": "start", "curve": "quartic", "runs": [{"start": [1, 2]}]}, "one number x"),
            ({"type": "start", "surface": "bowl", "runs": [{"start": 1.0}]}, "pair [x, y]"),
            ({"type": "start", "curve": "quartic", "surface": "bowl"}, "not both"),
            ({"type": "start", "curve": "nope"}, "curve"),
        ]
        for message, words in bad:
            ws.send_json(message)
            answer = strict_loads(ws.receive_text())
            assert answer["type"] == "error" and words in answer["message"], (message, answer)
        # still usable
        ws.send_json({"type": "start", "curve": "wavy", "speed": 0})
        steps = steps_of(receive_until(ws, ended))
        assert steps[0]["x"] == CURVES["wavy"].default_start
