"""1-D curves: exact derivatives (against finite differences), minima, runs on a curve."""

import math

import numpy as np
import pytest

from app.curves import CURVES
from app.descent import DescentRun


@pytest.mark.parametrize("name", list(CURVES))
def test_derivatives_match_central_differences(name):
    curve = CURVES[name]
    xs = np.linspace(*curve.domain, 301)
    h = 1e-5
    fd = (curve.value(xs + h) - curve.value(xs - h)) / (2 * h)
    assert np.allclose(curve.derivative(xs), fd, rtol=1e-7, atol=1e-6)
    fdd = (curve.derivative(xs + h) - curve.derivative(xs - h)) / (2 * h)
    assert np.allclose(curve.second(xs), fdd, rtol=1e-7, atol=1e-5)


@pytest.mark.parametrize("name", list(CURVES))
def test_vectorised_like_single_points(name):
    curve = CURVES[name]
    xs = np.linspace(*curve.domain, 17)
    values, slopes = curve.value(xs), curve.derivative(xs)
    assert values.shape == slopes.shape == xs.shape
    for x, f, g in zip(xs, values, slopes, strict=True):
        assert float(curve.value(float(x))) == pytest.approx(f, rel=1e-14, abs=1e-14)
        assert float(curve.derivative(float(x))) == pytest.approx(g, rel=1e-14, abs=1e-14)


@pytest.mark.parametrize("name", list(CURVES))
def test_minima_are_where_the_slope_vanishes_and_the_curve_bends_up(name):
    curve = CURVES[name]
    assert curve.minima
    lo, hi = curve.domain
    for m in curve.minima:
        assert lo < m < hi
        assert abs(curve.derivative(m)) < 1e-12
        assert curve.second(m) > 0
        # and f really is lowest there among its neighbours
        assert curve.value(m) < min(curve.value(m - 1e-3), curve.value(m + 1e-3))
    # no minimum is missed: between two listed minima f′ changes sign from − to + nowhere else
    xs = np.linspace(lo, hi, 20001)
    d = curve.derivative(xs)
    assert np.count_nonzero((d[:-1] < 0) & (d[1:] >= 0)) == len(curve.minima)


def test_the_curves_by_hand():
    quartic = CURVES["quartic"]
    assert quartic.formula == "f(x) = x⁴ − 3x³ + 2"
    assert quartic.value(2.0) == 16 - 24 + 2 and quartic.derivative(2.0) == 32 - 36
    assert quartic.minima == [2.25]  # f′ = x²(4x − 9); x = 0 is flat but not a minimum
    assert quartic.value(2.25) == pytest.approx(-6.54296875, abs=1e-15)
    well = CURVES["double_well"]
    left, right = well.minima
    assert left < -1 < 0 < right < 1 and well.value(left) < well.value(right)
    wavy = CURVES["wavy"]
    assert wavy.value(math.pi) == pytest.approx(0.1 * math.pi**2, abs=1e-14)


def test_a_run_on_a_curve_is_gd_on_x_alone():
    curve = CURVES["double_well"]
    run = DescentRun(curve.surface, (1.8, 0.0), "gd", 0.02, None, 5)
    steps = list(run)
    assert [s["i"] for s in steps] == list(range(6))
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["x"] == before["x"] - 0.02 * curve.derivative(before["x"])
        assert after["y"] == 0.0 and after["g"][1] == 0.0
        assert after["f"] == curve.value(after["x"])
    assert run.state == "max_steps"


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_every_optimizer_leaves_y_alone_and_converges_to_a_minimum(optimizer):
    curve = CURVES["quartic"]
    lr = {"adagrad": 0.5, "rmsprop": 0.01, "adam": 0.05}.get(optimizer, 0.005)
    run = DescentRun(curve.surface, (3.3, 0.0), optimizer, lr, None, 100_000)
    steps = list(run)
    assert all(s["y"] == 0.0 for s in steps)
    assert run.state == "converged", run.reason
    assert steps[-1]["x"] == pytest.approx(2.25, abs=1e-4)


def test_too_large_a_step_diverges_like_on_a_surface():
    run = DescentRun(CURVES["quartic"].surface, (3.3, 0.0), "gd", 1.0, None, 1000)
    list(run)
    assert run.state == "diverged" and "too large" in run.reason
