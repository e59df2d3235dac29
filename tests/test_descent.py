"""Descent runs as plain iterators: numbering, the update rule, settings, the stop rules."""

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pytest

from app.descent import DescentRun
from app.surfaces import SURFACES


@dataclass
class Fake:
    """A stand-in surface, so the run's rules are tested apart from the real formulas."""

    value_fn: object
    gradient_fn: object
    default_start: tuple = (2.0, -1.0)
    default_lr: float = 0.1
    minima: list = field(default_factory=lambda: [(0.0, 0.0)])
    name: str = "fake"

    def value(self, x, y):
        return self.value_fn(x, y)

    def gradient(self, x, y):
        return self.gradient_fn(x, y)


def bowl():
    """f = x² + 3y², ∇f = (2x, 6y): gd multiplies x by (1 − 2lr) and y by (1 − 6lr)."""
    return Fake(lambda x, y: x * x + 3 * y * y, lambda x, y: (2 * x, 6 * y))


def assert_wire_safe(steps):
    json.dumps(steps, allow_nan=False)  # raises on NaN/Infinity
    assert all(abs(s["x"]) <= 1e6 and abs(s["y"]) <= 1e6 for s in steps)


# --- numbering and the update rule ------------------------------------------------------


def test_step_zero_is_the_start_then_one_gd_update_per_step_by_hand():
    run = DescentRun(bowl(), max_steps=3)
    steps = list(run)
    # lr 0.1 on f = x² + 3y²: x ← 0.8·x, y ← 0.4·y from (2, −1); g = (2x, 6y)
    by_hand = [  # i, x, y, f, gx, gy, lr
        (0, 2.0, -1.0, 7.0, 4.0, -6.0, None),
        (1, 1.6, -0.4, 2.56 + 0.48, 3.2, -2.4, 0.1),
        (2, 1.28, -0.16, 1.6384 + 0.0768, 2.56, -0.96, 0.1),
        (3, 1.024, -0.064, 1.048576 + 0.012288, 2.048, -0.384, 0.1),
    ]
    assert len(steps) == len(by_hand)
    for step, (i, x, y, f, gx, gy, lr) in zip(steps, by_hand, strict=True):
        assert step["i"] == i and step["lr"] == lr
        assert [step["x"], step["y"], step["f"], *step["g"]] == pytest.approx(
            [x, y, f, gx, gy], rel=1e-14
        )
    assert steps[0] == {"i": 0, "x": 2.0, "y": -1.0, "f": 7.0, "g": [4.0, -6.0], "lr": None}
    assert run.state == "max_steps"


@pytest.mark.parametrize("name", ["himmelblau", "rosenbrock", "saddle"])
def test_every_step_is_x_minus_lr_times_the_previous_gradient(name):
    surface = SURFACES[name]
    run = DescentRun(surface, max_steps=300)
    steps = list(run)
    assert [s["i"] for s in steps] == list(range(len(steps)))
    assert steps[0]["lr"] is None
    assert (steps[0]["x"], steps[0]["y"]) == tuple(surface.default_start)
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["lr"] == surface.default_lr
        assert after["x"] == before["x"] - after["lr"] * before["g"][0]
        assert after["y"] == before["y"] - after["lr"] * before["g"][1]
    for step in steps:
        assert step["f"] == float(surface.value(step["x"], step["y"]))
        assert step["g"] == [float(g) for g in surface.gradient(step["x"], step["y"])]
    assert_wire_safe(steps)


@pytest.mark.parametrize(("name", "hyper"), [("momentum", {}), ("nesterov", {"momentum": 0.5})])
def test_momentum_runs_match_a_scalar_reimplementation(name, hyper):
    surface = SURFACES["himmelblau"]
    mu, lr = hyper.get("momentum", 0.9), 0.002
    steps = DescentRun(surface, (1.0, 1.0), name, lr, hyper, max_steps=40).advance(40)
    x, y, bx, by = 1.0, 1.0, 0.0, 0.0
    for step in steps:
        gx, gy = surface.gradient(x, y)
        bx, by = mu * bx + gx, mu * by + gy
        if name == "nesterov":
            x, y = x - lr * (gx + mu * bx), y - lr * (gy + mu * by)
        else:
            x, y = x - lr * bx, y - lr * by
        assert (step["x"], step["y"]) == pytest.approx((x, y), rel=1e-13)


def test_defaults_come_from_the_surface():
    surface = SURFACES["rosenbrock"]
    run = DescentRun(surface)
    assert run.lr == surface.default_lr and run.max_steps == 2000
    assert (run.x, run.y) == tuple(surface.default_start)
    assert run.optimizer.name == "gd"


# --- settings between steps --------------------------------------------------------------


def test_lr_change_applies_from_the_next_step_only():
    run = DescentRun(bowl(), lr=0.01)
    first = [run.first_step(), *run.advance(3)]
    run.set_lr(0.2)
    later = run.advance(2)
    assert [s["lr"] for s in first[1:]] == [0.01] * 3
    assert [s["lr"] for s in later] == [0.2, 0.2]
    assert [s["i"] for s in later] == [4, 5]
    assert later[0]["x"] == first[-1]["x"] - 0.2 * first[-1]["g"][0]


def test_hyper_change_applies_and_bad_hyper_changes_nothing():
    run = DescentRun(bowl(), optimizer="momentum", lr=0.01)
    run.advance(2)
    run.set_hyper(momentum=0.5)
    assert run.optimizer.hyper["momentum"] == 0.5
    with pytest.raises(ValueError, match="momentum must lie in"):
        run.set_hyper(momentum=1.5)
    with pytest.raises(ValueError, match="momentum has no hyper-parameter betas"):
        run.set_hyper(betas=(0.9, 0.99))
    assert run.optimizer.hyper == {"momentum": 0.5}


@pytest.mark.parametrize("lr", [0.0, -0.1, math.nan, math.inf])
def test_bad_learning_rates_are_refused(lr):
    with pytest.raises(ValueError, match="learning rate must be a positive finite number"):
        DescentRun(bowl(), lr=lr)
    run = DescentRun(bowl())
    with pytest.raises(ValueError, match="learning rate"):
        run.set_lr(lr)
    assert run.lr == 0.1


def test_bad_starts_and_step_limits_are_refused():
    with pytest.raises(ValueError, match="must lie within ±1e6"):
        DescentRun(bowl(), start=(2e6, 0.0))
    with pytest.raises(ValueError, match="must lie within"):
        DescentRun(bowl(), start=(math.nan, 0.0))
    with pytest.raises(ValueError, match="max_steps"):
        DescentRun(bowl(), max_steps=-1)
    with pytest.raises(ValueError, match="unknown optimizer"):
        DescentRun(bowl(), optimizer="newton")


def test_restart_goes_back_to_step_zero_with_fresh_optimizer_state():
    surface = SURFACES["himmelblau"]
    run = DescentRun(surface, optimizer="adam", lr=0.05)
    run.advance(10)
    run.restart((1.0, 1.0))
    assert run.i == 0 and run.state == "running"
    assert run.first_step()["x"] == 1.0 and run.first_step()["lr"] is None
    fresh = DescentRun(surface, start=(1.0, 1.0), optimizer="adam", lr=0.05)
    assert run.advance(5) == fresh.advance(5)


def test_restart_revives_an_ended_run():
    run = DescentRun(bowl(), lr=2.0)
    list(run)
    assert run.state == "diverged"
    run.restart((1.0, 1.0))
    assert run.state == "running" and run.reason == ""
    run.set_lr(0.1)
    assert [s["i"] for s in run.advance(3)] == [1, 2, 3]


# --- the stop rules ------------------------------------------------------------------------


def test_max_steps_counts_updates():
    run = DescentRun(SURFACES["rosenbrock"], max_steps=25)
    steps = list(run)
    assert [s["i"] for s in steps] == list(range(26))
    assert run.state == "max_steps" and "25 steps" in run.reason
    assert run.advance(10) == []


def test_advance_stops_early_when_the_run_ends():
    run = DescentRun(bowl(), max_steps=10)
    assert [s["i"] for s in run.advance(4)] == [1, 2, 3, 4]
    assert run.state == "running"
    assert [s["i"] for s in run.advance(100)] == list(range(5, 11))
    assert run.state == "max_steps"


def test_converges_when_the_gradient_vanishes():
    run = DescentRun(SURFACES["bowl"])
    steps = list(run)
    assert run.state == "converged" and "|∇f|" in run.reason and "< 1e-6" in run.reason
    assert math.hypot(*steps[-1]["g"]) < 1e-6 <= math.hypot(*steps[-2]["g"])


def test_a_start_on_the_minimum_has_converged_at_step_zero():
    run = DescentRun(SURFACES["bowl"], start=(0.0, 0.0))
    assert run.state == "converged" and "at the start" in run.reason
    assert list(run) == [run.first_step()]


def test_converges_when_the_point_stops_moving():
    # lr so small that the steps vanish next to |x| long before |∇f| < 1e-6
    run = DescentRun(bowl(), start=(1e5, 0.0), lr=1e-23, max_steps=10)
    steps = list(run)
    assert run.state == "converged" and "stopped moving" in run.reason
    assert steps[-1]["x"] == steps[-2]["x"]


def test_overshooting_diverges_without_producing_the_bad_step():
    run = DescentRun(bowl(), start=(1.0, 1.0), lr=1.5, max_steps=1000)
    steps = list(run)
    assert run.state == "diverged"
    # 6y·1.5 = 9y: y ← −8y, so |y| passes 1e6 at the update to step 7 (8⁷ > 1e6 > 8⁶)
    assert [s["i"] for s in steps] == list(range(7))
    assert run.reason == (
        "diverged: learning rate 1.5 too large for this curvature: "
        "the point left the plot (|y| > 1e6) at step 7"
    )
    assert_wire_safe(steps)


def test_a_saddle_slides_off_downhill_and_says_why():
    run = DescentRun(SURFACES["saddle"], max_steps=100_000)
    steps = list(run)
    assert run.state == "diverged" and "keeps falling" in run.reason and "|y| > 1e6" in run.reason
    assert_wire_safe(steps)


@pytest.mark.parametrize(
    "exp",
    [np.exp, math.exp],  # NumPy overflows to inf; math raises OverflowError
    ids=["numpy-inf", "math-overflow"],
)
def test_an_overflowing_value_diverges_and_is_never_sent(exp):
    surface = Fake(lambda x, y: exp(x) + y * y, lambda x, y: (-exp(-x) - 1.0, 2 * y))
    surface.value_fn = lambda x, y: exp(x * 10) + y * y  # blows up at x ≈ 71
    run = DescentRun(surface, start=(0.0, 0.0), lr=10.0, max_steps=100)
    steps = list(run)
    assert run.state == "diverged" and "stopped being a finite number" in run.reason
    assert steps[-1]["x"] < 71 and len(steps) < 10
    assert_wire_safe(steps)


def test_a_nan_gradient_diverges_and_is_never_sent():
    surface = Fake(
        lambda x, y: x * x + y * y,
        lambda x, y: (2 * x, 2 * y) if abs(x) < 3 else (math.nan, 0.0),
    )
    run = DescentRun(surface, start=(1.0, 0.0), lr=1.6)  # x ← −2.2x: |x| passes 3 at step 2
    steps = list(run)
    assert [s["x"] for s in steps] == pytest.approx([1.0, -2.2])
    assert run.state == "diverged" and "stopped being a finite number at step 2" in run.reason
    assert_wire_safe(steps)


def test_a_start_where_the_surface_is_not_finite_is_diverged_at_once():
    run = DescentRun(Fake(lambda x, y: math.inf, lambda x, y: (0.0, 0.0)), start=(0.0, 0.0))
    assert run.state == "diverged" and "start" in run.reason
    assert run.advance(5) == []
    assert_wire_safe([run.first_step()])


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
@pytest.mark.parametrize("name", ["himmelblau", "rosenbrock"])
def test_every_optimizer_descends_and_stays_finite(optimizer, name):
    surface = SURFACES[name]
    lr = surface.default_lr if optimizer in ("gd", "momentum", "nesterov") else 0.01
    steps = list(DescentRun(surface, optimizer=optimizer, lr=lr / 10, max_steps=300))
    assert steps[-1]["f"] < steps[0]["f"]
    assert_wire_safe(steps)


def test_steps_are_plain_python_numbers():
    """The wire encoder and the tests rely on floats, not NumPy scalars."""
    steps = list(DescentRun(SURFACES["rastrigin"], max_steps=3))
    for step in steps:
        assert all(type(step[k]) is float for k in ("x", "y", "f"))
        assert all(type(g) is float for g in step["g"]) and type(step["i"]) is int
