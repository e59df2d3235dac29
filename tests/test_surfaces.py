"""Surfaces: values against independently written formulas, gradients against finite differences."""

import math

import numpy as np
import pytest

from app.surfaces import SURFACES, grid

NAMES = list(SURFACES)
REQUIRED = {
    "bowl", "ravine", "saddle", "wells", "rosenbrock", "himmelblau", "rastrigin", "ackley",
    "beale", "booth", "six_hump_camel", "styblinski_tang",
}  # fmt: skip


def reference(name, x, y):
    """The canonical formulas, written out again from the literature, point by point."""
    if name == "bowl":
        return x * x + y * y
    if name == "saddle":
        return x * x - y * y
    if name == "rosenbrock":
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2
    if name == "himmelblau":
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2
    if name == "rastrigin":
        return 20 + sum(t * t - 10 * math.cos(2 * math.pi * t) for t in (x, y))
    if name == "ackley":
        return (
            -20 * math.exp(-0.2 * math.sqrt(0.5 * (x * x + y * y)))
            - math.exp(0.5 * (math.cos(2 * math.pi * x) + math.cos(2 * math.pi * y)))
            + 20
            + math.e
        )
    if name == "beale":
        return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    if name == "booth":
        return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2
    if name == "six_hump_camel":
        return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
    if name == "styblinski_tang":
        return sum(t**4 - 16 * t**2 + 5 * t for t in (x, y)) / 2
    return None


def random_points(surface, count=40, seed=0):
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.domain
    return zip(rng.uniform(x0, x1, count), rng.uniform(y0, y1, count), strict=True)


def test_every_required_surface_exists():
    assert REQUIRED <= set(SURFACES)


@pytest.mark.parametrize("name", NAMES)
def test_values_match_the_canonical_formula(name):
    surface = SURFACES[name]
    for x, y in random_points(surface):
        expected = reference(name, x, y)
        if expected is not None:
            assert surface.value(x, y) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "point", "value"),
    [
        ("rosenbrock", (1, 1), 0.0),
        ("himmelblau", (3, 2), 0.0),
        ("beale", (3, 0.5), 0.0),
        ("booth", (1, 3), 0.0),
        ("ackley", (0, 0), 0.0),
        ("rastrigin", (0, 0), 0.0),
        ("six_hump_camel", (0.0898, -0.7126), -1.0316),
        ("styblinski_tang", (-2.903534, -2.903534), -78.33234),
    ],
)
def test_known_optima(name, point, value):
    assert SURFACES[name].value(*point) == pytest.approx(value, abs=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_central_differences(name):
    surface = SURFACES[name]
    for x, y in random_points(surface, seed=1):
        gx, gy = surface.gradient(x, y)
        h = 1e-6 * max(1.0, abs(x), abs(y))
        fx = (surface.value(x + h, y) - surface.value(x - h, y)) / (2 * h)
        fy = (surface.value(x, y + h) - surface.value(x, y - h)) / (2 * h)
        scale = max(1.0, abs(gx), abs(gy), abs(surface.value(x, y)) * 1e-3)
        assert abs(gx - fx) <= 1e-6 * scale, (x, y)
        assert abs(gy - fy) <= 1e-6 * scale, (x, y)


@pytest.mark.parametrize("name", NAMES)
def test_gradient_vanishes_at_every_listed_minimum(name):
    surface = SURFACES[name]
    for m in surface.minima:
        assert math.hypot(*surface.gradient(*m)) < 1e-6, m
        assert surface.value(*m) >= surface.min_value - 1e-12


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_equals_pointwise_and_finite_everywhere(name):
    surface = SURFACES[name]
    xs, ys, zs = grid(surface, 9)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            assert zs[j][i] == pytest.approx(surface.value(x, y), rel=1e-12, abs=1e-12)
    gx, gy = surface.gradient(xs[np.newaxis, :], ys[:, np.newaxis])
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))
    assert np.all(np.isfinite(surface.gradient(0.0, 0.0)))


def test_ackley_origin_has_the_zero_subgradient():
    assert tuple(map(float, SURFACES["ackley"].gradient(0.0, 0.0))) == (0.0, 0.0)


def test_ravine_is_ill_conditioned():
    ravine = SURFACES["ravine"]
    h = 1e-4
    hxx = (ravine.gradient(h, 0)[0] - ravine.gradient(-h, 0)[0]) / (2 * h)
    hyy = (ravine.gradient(0, h)[1] - ravine.gradient(0, -h)[1]) / (2 * h)
    assert max(hxx, hyy) / min(hxx, hyy) >= 20


def test_wells_and_himmelblau_have_several_minima():
    assert len(SURFACES["himmelblau"].minima) == 4
    wells = SURFACES["wells"]
    depths = [wells.value(*m) for m in wells.minima]
    assert len(depths) >= 3 and depths[0] == min(depths) and len(set(np.round(depths, 6))) >= 3


@pytest.mark.parametrize("name", [n for n in NAMES if n != "saddle"])
def test_plain_gd_from_the_default_start_converges_to_a_listed_minimum(name):
    surface = SURFACES[name]
    x, y = surface.default_start
    lr = surface.default_lr
    for _ in range(20_000):
        gx, gy = surface.gradient(x, y)
        if math.hypot(gx, gy) < 1e-6:
            break
        x, y = x - lr * gx, y - lr * gy
    assert math.hypot(*surface.gradient(x, y)) < 1e-6
    if name not in ("rastrigin", "ackley"):  # these teach: the nearest local minimum catches you
        assert min(math.hypot(x - mx, y - my) for mx, my in surface.minima) < 1e-4


def test_saddle_demo_runs_away_along_y():
    saddle = SURFACES["saddle"]
    x, y = saddle.default_start
    for _ in range(100):
        gx, gy = saddle.gradient(x, y)
        x, y = x - saddle.default_lr * gx, y - saddle.default_lr * gy
    assert abs(x) < 1e-3 and abs(y) > 1.0 and not saddle.minima
