"""Descent runs as plain iterators: numbering, the update rule, and the stop rules."""

import math

import pytest

from app.descent import DescentRun
from app.surfaces import SURFACES


def test_step_zero_is_the_start_and_each_step_is_one_gd_update():
    surface = SURFACES["himmelblau"]
    run = DescentRun(surface, start=(0.5, -1.0), lr=0.01, max_steps=50)
    steps = list(run)
    assert steps[0] == {
        "i": 0,
        "x": 0.5,
        "y": -1.0,
        "f": surface.value(0.5, -1.0),
        "g": list(surface.gradient(0.5, -1.0)),
        "lr": None,
    }
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["i"] == before["i"] + 1
        assert after["x"] == before["x"] - after["lr"] * before["g"][0]
        assert after["y"] == before["y"] - after["lr"] * before["g"][1]
        assert after["f"] == surface.value(after["x"], after["y"])


def test_lr_change_applies_from_the_next_step_only():
    run = DescentRun(SURFACES["bowl"], start=(2.0, 1.0), lr=0.01)
    first = [run.first_step(), *run.advance(3)]
    run.set_lr(0.2)
    later = run.advance(2)
    assert [s["lr"] for s in first[1:]] == [0.01] * 3
    assert [s["lr"] for s in later] == [0.2, 0.2]
    assert later[0]["x"] == pytest.approx(first[-1]["x"] * (1 - 2 * 0.2))


def test_max_steps_counts_updates():
    run = DescentRun(SURFACES["rosenbrock"], max_steps=25)
    steps = list(run)
    assert [s["i"] for s in steps] == list(range(26))
    assert run.state == "max_steps" and "25" in run.reason


def test_converges_on_the_bowl():
    run = DescentRun(SURFACES["bowl"])
    steps = list(run)
    assert run.state == "converged"
    assert math.hypot(*steps[-1]["g"]) < 1e-6


def test_stops_when_the_point_stops_moving():
    # lr so small that steps vanish next to |x| long before |∇f| < 1e-6
    run = DescentRun(SURFACES["bowl"], start=(1e5, 0.0), lr=1e-23, max_steps=10)
    list(run)
    assert run.state == "converged" and "stopped moving" in run.reason


def test_divergence_never_produces_the_bad_step():
    run = DescentRun(SURFACES["bowl"], start=(1.0, 1.0), lr=1.5, max_steps=1000)
    steps = list(run)
    assert run.state == "diverged" and "too large" in run.reason
    assert all(abs(s["x"]) <= 1e6 and abs(s["y"]) <= 1e6 for s in steps)
    assert all(math.isfinite(s["f"]) for s in steps)
    assert len(steps) < 1000


def test_saddle_slides_off_and_says_why():
    run = DescentRun(SURFACES["saddle"], max_steps=100_000)
    list(run)
    assert run.state == "diverged" and "no minimum" in run.reason


def test_restart_goes_back_to_step_zero_with_fresh_state():
    run = DescentRun(SURFACES["himmelblau"], optimizer="momentum", lr=0.001)
    run.first_step()
    run.advance(10)
    run.restart((1.0, 1.0))
    assert run.first_step()["i"] == 0 and run.first_step()["x"] == 1.0
    fresh = DescentRun(SURFACES["himmelblau"], start=(1.0, 1.0), optimizer="momentum", lr=0.001)
    fresh.first_step()
    assert run.advance(5) == fresh.advance(5)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_runs_and_stays_finite(optimizer):
    run = DescentRun(SURFACES["himmelblau"], optimizer=optimizer, lr=0.01, max_steps=300)
    steps = list(run)
    assert steps[-1]["f"] < steps[0]["f"]
