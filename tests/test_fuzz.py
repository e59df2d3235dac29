"""Property-based fuzzing: random and extreme input never breaks a socket or a route.

Every reply must be strict JSON (no NaN or Infinity), every bad message must get an
``error``, no HTTP answer may be a 5xx, and a normal run must still work afterwards.
"""

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.optimizers import OPTIMIZERS
from app.surfaces import SURFACES

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
message_types = st.sampled_from(
    ["start", "set", "move", "step", "pause", "resume", "stop", "save", "classify", "x"]
)
messages = st.one_of(
    json_values,
    st.dictionaries(st.text(max_size=10), json_values, max_size=5).flatmap(
        lambda d: message_types.map(lambda t: {**d, "type": t})
    ),
)


def strict(text: str) -> dict:
    def refuse(constant):
        raise AssertionError(f"{constant} on the wire")

    return json.loads(text, parse_constant=refuse)


def assert_finite(value):
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, list):
        for item in value:
            assert_finite(item)
    elif isinstance(value, dict):
        for item in value.values():
            assert_finite(item)


@FUZZ
@given(st.lists(messages, min_size=1, max_size=5))
def test_descent_socket_survives_random_messages(client, batch):
    with client.websocket_connect("/ws/descent") as ws:
        for message in batch:
            ws.send_text(json.dumps(message))
        ws.send_json({"type": "start", "surface": "bowl", "speed": 0, "max_steps": 5})
        while True:
            reply = strict(ws.receive_text())
            assert_finite(reply)
            if reply["type"] == "status" and reply["state"] == "max_steps":
                break


@FUZZ
@given(
    surface=st.sampled_from(list(SURFACES)),
    optimizer=st.sampled_from(list(OPTIMIZERS)),
    lr=st.floats(min_value=1e-300, max_value=1e3),
    x=st.floats(min_value=-1e6, max_value=1e6),
    y=st.floats(min_value=-1e6, max_value=1e6),
)
def test_extreme_but_valid_runs_stay_finite(client, surface, optimizer, lr, x, y):
    start = {
        "type": "start",
        "surface": surface,
        "speed": 0,
        "max_steps": 30,
        "runs": [{"id": "a", "start": [x, y], "optimizer": optimizer, "lr": lr}],
    }
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json(start)
        while True:
            reply = strict(ws.receive_text())
            assert_finite(reply)
            assert reply["type"] != "error", reply
            if reply["type"] == "status" and reply["state"] not in ("running", "paused"):
                break


@FUZZ
@given(st.lists(messages, min_size=1, max_size=5))
def test_train_socket_survives_random_messages(client, batch):
    with client.websocket_connect("/ws/train") as ws:
        for message in batch:
            if isinstance(message, dict) and message.get("type") == "start":
                continue  # a valid start would train for minutes; starts are tested elsewhere
            ws.send_text(json.dumps(message))
            ws.send_json({"type": "set", "lr": 1.0})  # a probe: always answered, with an error
            while True:  # pause, resume and stop with nothing training are silently ignored
                reply = strict(ws.receive_text())
                assert_finite(reply)
                assert reply["type"] in ("error", "status", "classified", "saved"), reply
                if reply["type"] == "error" and "nothing is training" in reply["message"]:
                    break


@FUZZ
@given(
    name=st.sampled_from([*SURFACES, "moon", ""]),
    x=st.one_of(st.floats(), st.text(max_size=8)),
    y=st.one_of(st.floats(), st.text(max_size=8)),
    n=st.one_of(st.integers(), st.text(max_size=5)),
)
def test_http_routes_never_fail_with_5xx(client, name, x, y, n):
    for url, params in (
        (f"/api/surfaces/{name}/eval", {"x": str(x), "y": str(y)}),
        (f"/api/surfaces/{name}/grid", {"n": str(n)}),
    ):
        response = client.get(url, params=params)
        assert response.status_code < 500
        strict(response.text)


@FUZZ
@given(json_values)
def test_classify_route_never_fails_with_5xx(client, body):
    response = client.post("/api/mnist/classify", json=body)
    assert response.status_code in (409, 422)
    strict(response.text)
