"""Escaping a pit: langevin and annealing, seeded, replayable, and out of the shallow well."""

import json
import math

import numpy as np
import pytest

from app.basins import basin_map
from app.descent import DescentRun
from app.optimizers import NOISY_OPTIMIZERS, OPTIMIZERS, POINT_OPTIMIZERS, make_optimizer
from app.surfaces import SURFACES

WELLS = SURFACES["wells"]
START = (2.8, -2.3)  # inside the shallowest pit, near (2.5, −2)


def pit_of(x, y):
    """The index of the wells' minimum nearest (x, y): 0 is the deepest pit."""
    return min(range(4), key=lambda k: math.hypot(x - WELLS.minima[k][0], y - WELLS.minima[k][1]))


def test_registries():
    assert set(NOISY_OPTIMIZERS) == {"langevin", "annealing"}
    assert POINT_OPTIMIZERS == {**OPTIMIZERS, **NOISY_OPTIMIZERS}
    assert not set(NOISY_OPTIMIZERS) & set(OPTIMIZERS)  # the digit trainer keeps torch's six
    assert make_optimizer("langevin", 0.1).hyper == {"temperature": 1.0, "cooling": 0.999}
    assert make_optimizer("annealing", 0.1).hyper == {
        "temperature": 1.0,
        "cooling": 0.999,
        "step": 0.5,
    }
    for bad, words in [
        ({"temperature": -1}, "temperature"),
        ({"cooling": 0}, "cooling"),
        ({"cooling": 1.5}, "cooling"),
        ({"step": 0}, "step"),
    ]:
        with pytest.raises(ValueError, match=words):
            make_optimizer("annealing", 0.1, bad)
    with pytest.raises(ValueError, match="seed"):
        make_optimizer("langevin", 0.1, None, -1)


def test_langevin_is_gd_plus_the_scaled_noise_by_hand():
    """x −= lr·g + √(2·lr·T)·ξ with T = temperature·cooling^t and ξ from the seeded generator."""
    lr, temperature, cooling = 0.1, 0.7, 0.9
    opt = make_optimizer("langevin", lr, {"temperature": temperature, "cooling": cooling}, 42)
    xis = np.random.default_rng(42).standard_normal(6).reshape(3, 2)
    x, y = 1.0, -2.0
    for t in range(3):
        gx, gy = 2 * x, 4 * y
        nx, ny = opt.step_point(x, y, gx, gy)
        scale = math.sqrt(2 * lr * temperature * cooling**t)
        assert nx == pytest.approx(x - (lr * gx + scale * xis[t, 0]), rel=1e-15)
        assert ny == pytest.approx(y - (lr * gy + scale * xis[t, 1]), rel=1e-15)
        x, y = nx, ny


def test_langevin_at_zero_temperature_is_gd():
    hot = DescentRun(WELLS, START, "langevin", 0.5, {"temperature": 0.0}, 50)
    plain = DescentRun(WELLS, START, "gd", 0.5, None, 50)
    plain_steps = list(plain)
    assert plain.state == "converged"  # gd stops; langevin at T = 0 walks on in place
    same = list(hot)[: len(plain_steps)]
    assert [(s["x"], s["y"]) for s in same] == [(s["x"], s["y"]) for s in plain_steps]
    assert hot.state == "max_steps"


def test_annealing_accepts_downhill_and_follows_the_metropolis_rule():
    """On f = x² + y², with T = 1: a move is kept iff Δf ≤ 0 or u < e^(−Δf)."""
    bowl = SURFACES["bowl"]
    run = DescentRun(bowl, (1.0, 1.0), "annealing", 0.1, {"cooling": 1.0}, 200, seed=3)
    steps = list(run)
    rng = np.random.default_rng(3)
    for before, after in zip(steps, steps[1:], strict=False):
        xi = rng.standard_normal(2)
        u = rng.random()
        nx, ny = before["x"] + 0.5 * xi[0], before["y"] + 0.5 * xi[1]
        delta = nx**2 + ny**2 - before["f"]
        accepted = delta <= 0 or u < math.exp(-delta)
        expected = (nx, ny) if accepted else (before["x"], before["y"])
        assert (after["x"], after["y"]) == pytest.approx(expected, rel=1e-15)
    assert run.state == "max_steps"  # it never "converges", however still it stands


@pytest.mark.parametrize("optimizer", ["langevin", "annealing"])
def test_same_seed_same_steps_bit_for_bit_and_restart_replays(optimizer):
    def steps(seed):
        return list(DescentRun(WELLS, START, optimizer, 0.2, None, 500, seed))

    first, again, other = steps(7), steps(7), steps(8)
    assert json.dumps(first) == json.dumps(again)  # every float identical
    assert first != other
    run = DescentRun(WELLS, START, optimizer, 0.2, None, 500, 7)
    list(run)
    run.restart(START)
    assert json.dumps(list(run)) == json.dumps(first)


@pytest.mark.parametrize(
    ("optimizer", "lr", "hyper", "seed"),
    [("langevin", 0.2, {"temperature": 0.5}, 1), ("annealing", 0.5, None, 1)],
)
def test_a_seeded_run_leaves_the_pit_that_gd_stays_in(optimizer, lr, hyper, seed):
    plain = list(DescentRun(WELLS, START, "gd", 0.5, None, 3000))
    assert pit_of(plain[-1]["x"], plain[-1]["y"]) == 3  # gd: straight into the shallow pit
    noisy = list(DescentRun(WELLS, START, optimizer, lr, hyper, 3000, seed))
    assert len(noisy) == 3001  # ends at max_steps: no gradient-based convergence
    pits = {pit_of(s["x"], s["y"]) for s in noisy}
    assert len(pits) >= 2  # it visited another pit on the way
    end = noisy[-1]
    assert pit_of(end["x"], end["y"]) == 0  # and, cooled down, sits in the deepest one
    assert end["f"] < plain[-1]["f"] - 1


def test_noisy_runs_over_the_socket_are_replayable(client):
    start = {
        "type": "start",
        "surface": "wells",
        "speed": 0,
        "max_steps": 300,
        "runs": [
            {"id": "a", "start": list(START), "optimizer": "langevin", "lr": 0.2, "seed": 11,
             "hyper": {"temperature": 0.5, "cooling": 0.99}},
            {"id": "b", "start": list(START), "optimizer": "annealing", "seed": 11,
             "hyper": {"step": 0.3}},
        ],
    }  # fmt: skip

    def run_once():
        steps = {"a": [], "b": []}
        ended = set()
        with client.websocket_connect("/ws/descent") as ws:
            ws.send_json(start)
            while len(ended) < 2:
                message = json.loads(ws.receive_text())
                assert message["type"] != "error", message
                if message["type"] == "steps":
                    steps[message["run"]] += message["steps"]
                if message["type"] == "status" and message["state"] == "max_steps":
                    ended.add(message["run"])
        return steps

    first, second = run_once(), run_once()
    assert first == second and len(first["a"]) == len(first["b"]) == 301
    expected = list(DescentRun(WELLS, START, "langevin", 0.2,
                               {"temperature": 0.5, "cooling": 0.99}, 300, 11))  # fmt: skip
    assert first["a"] == expected
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({**start, "runs": [{"optimizer": "langevin", "seed": -1}]})
        assert json.loads(ws.receive_text())["type"] == "error"
        ws.send_json({**start, "runs": [{"optimizer": "gd", "hyper": {"temperature": 1}}]})
        answer = json.loads(ws.receive_text())
        assert answer["type"] == "error" and "temperature" in answer["message"]


def test_a_basin_map_refuses_random_optimizers(client):
    with pytest.raises(ValueError, match="deterministic"):
        basin_map(WELLS, 4, "langevin", 0.1)
    response = client.get("/api/surfaces/wells/basins", params={"optimizer": "annealing"})
    assert response.status_code == 422 and "deterministic" in response.json()["detail"]
