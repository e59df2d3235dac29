"""Surfaces: values against the formulas written out again, gradients against finite
differences and torch.autograd, minima against a brute-force search, and the demos."""

import ast
import math
import sys
from decimal import Decimal, localcontext
from pathlib import Path

import numpy as np
import pytest
import scipy.optimize
import torch

from app import surface_formulas, surfaces
from app.surfaces import SURFACES, grid

NAMES = list(SURFACES)
REQUIRED = {
    "bowl", "ravine", "saddle", "wells", "rosenbrock", "himmelblau", "rastrigin", "ackley",
    "beale", "booth", "six_hump_camel", "styblinski_tang",
}  # fmt: skip
RIPPLED = {"rastrigin", "ackley"}  # a local minimum beside every integer point: not listed
# the wells' pits (centre x, centre y, depth, width), typed again rather than imported
WELL_PITS = [(2, 2, 3, 1), (-2.5, 1.5, 2, 1), (-1.5, -2.5, 2.5, 0.9), (2.5, -2, 1.5, 0.8)]


def reference(name, x, y, lib=math):
    """The canonical formulas, typed again from the literature; ``lib`` is math or torch."""
    cos, exp, sqrt, pi, e = lib.cos, lib.exp, lib.sqrt, math.pi, math.e
    return {
        "bowl": lambda: x * x + y * y,
        "ravine": lambda: 0.5 * x * x + 12.5 * y * y,
        "saddle": lambda: x * x - y * y,
        "wells": lambda: (
            0.02 * (x * x + y * y)
            - sum(d * exp(-((x - a) ** 2 + (y - b) ** 2) / (2 * w * w)) for a, b, d, w in WELL_PITS)
        ),
        "rosenbrock": lambda: (1 - x) ** 2 + 100 * (y - x * x) ** 2,
        "himmelblau": lambda: (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2,
        "rastrigin": lambda: 20 + sum(t * t - 10 * cos(2 * pi * t) for t in (x, y)),
        "ackley": lambda: (
            -20 * exp(-0.2 * sqrt(0.5 * (x * x + y * y)))
            - exp(0.5 * (cos(2 * pi * x) + cos(2 * pi * y)))
            + 20
            + e
        ),
        "beale": lambda: (
            (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
        ),
        "booth": lambda: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
        "six_hump_camel": lambda: (
            (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2
        ),
        "styblinski_tang": lambda: sum(t**4 - 16 * t**2 + 5 * t for t in (x, y)) / 2,
    }[name]()


def random_points(surface, count=60, seed=0):
    """Uniform points in the domain, as two float arrays."""
    rng = np.random.default_rng(seed)
    (x0, x1), (y0, y1) = surface.domain
    return rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)


def hessian(surface, x, y):
    """Central differences of the exact gradient, symmetrised."""
    h = 1e-5 * max(1.0, abs(x), abs(y))
    dx = np.subtract(surface.gradient(x + h, y), surface.gradient(x - h, y)) / (2 * h)
    dy = np.subtract(surface.gradient(x, y + h), surface.gradient(x, y - h)) / (2 * h)
    H = np.array([dx, dy])
    return 0.5 * (H + H.T)


def plain_gd(surface, start, lr, steps=20_000):
    """x −= lr·∇f until |∇f| < 1e-6; returns the end point and the number of updates."""
    x, y = start
    for i in range(steps + 1):
        gx, gy = surface.gradient(x, y)
        if math.hypot(gx, gy) < 1e-6:
            return (float(x), float(y)), i
        x, y = x - lr * gx, y - lr * gy
    return (float(x), float(y)), None


def test_every_required_surface_exists_and_describes_itself():
    assert REQUIRED <= set(SURFACES)
    for name, s in SURFACES.items():
        assert s.name == name and s.title and s.formula.startswith("f(x, y) = ")
        assert s.description.endswith(".") and len(s.description) < 100
        (x0, x1), (y0, y1) = s.domain
        assert x0 < s.default_start[0] < x1 and y0 < s.default_start[1] < y1
        assert 0 < s.default_lr < 1 and isinstance(s.log_color, bool)
    assert SURFACES["rosenbrock"].log_color and SURFACES["beale"].log_color


# --- values ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_values_match_the_canonical_formula(name):
    surface = SURFACES[name]
    for x, y in zip(*random_points(surface), strict=True):
        expected = reference(name, float(x), float(y))
        assert surface.value(float(x), float(y)) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(
    ("name", "point", "value"),
    [
        ("bowl", (0, 0), 0.0),
        ("ravine", (2, 1), 14.5),
        ("saddle", (1, 2), -3.0),
        ("rosenbrock", (1, 1), 0.0),
        ("rosenbrock", (0, 0), 1.0),
        ("himmelblau", (3, 2), 0.0),
        ("himmelblau", (0, 0), 170.0),
        ("beale", (3, 0.5), 0.0),
        ("booth", (1, 3), 0.0),
        ("booth", (0, 0), 74.0),
        ("ackley", (0, 0), 0.0),
        ("rastrigin", (0, 0), 0.0),
        ("rastrigin", (1, 1), 2.0),
        ("six_hump_camel", (0.0898, -0.7126), -1.0316),
        ("six_hump_camel", (-0.0898, 0.7126), -1.0316),
        ("styblinski_tang", (-2.903534, -2.903534), -78.33234),
    ],
)
def test_known_values_from_the_literature(name, point, value):
    assert SURFACES[name].value(*point) == pytest.approx(value, abs=1e-4)


@pytest.mark.parametrize(
    "point", [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
)
def test_himmelblau_lists_its_four_published_minima(point):
    himmelblau = SURFACES["himmelblau"]
    assert himmelblau.value(*point) < 1e-9
    assert min(math.dist(point, m) for m in himmelblau.minima) < 1e-6


def _decimal_newton(gradient, hessian, x, y):
    """Newton's method in 50-digit decimals with the Hessian worked by hand."""
    with localcontext() as context:
        context.prec = 50
        x, y = Decimal(x), Decimal(y)
        for _ in range(40):
            (gx, gy), (a, b, c) = gradient(x, y), hessian(x, y)
            det = a * c - b * b
            x, y = x - (c * gx - b * gy) / det, y - (a * gy - b * gx) / det
        return float(x), float(y)


def test_polished_minima_are_exact_to_rounding():
    """Against 50-digit Newton iterations: the computed minima are the nearest floats to 2 ulp."""
    c84, c252 = Decimal("8.4"), Decimal("25.2")
    camel = SURFACES["six_hump_camel"]
    for m in camel.minima:
        exact = _decimal_newton(
            lambda x, y: (8 * x - c84 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3),
            lambda x, y: (8 - c252 * x**2 + 10 * x**4, 1, 16 * 3 * y**2 - 8),
            *m,
        )
        assert m == pytest.approx(exact, rel=3e-16, abs=0)
    assert camel.min_value == pytest.approx(-1.0316284534898774, abs=1e-15)
    for m in SURFACES["himmelblau"].minima:
        exact = _decimal_newton(
            lambda x, y: (
                4 * x * (x**2 + y - 11) + 2 * (x + y**2 - 7),
                2 * (x**2 + y - 11) + 4 * y * (x + y**2 - 7),
            ),
            lambda x, y: (12 * x**2 + 4 * y - 42, 4 * x + 4 * y, 4 * x + 12 * y**2 - 26),
            *m,
        )
        assert m == pytest.approx(exact, rel=3e-16, abs=0)
    st = SURFACES["styblinski_tang"]
    for m in st.minima:
        exact = _decimal_newton(
            lambda x, y: (2 * x**3 - 16 * x + Decimal("2.5"), 2 * y**3 - 16 * y + Decimal("2.5")),
            lambda x, y: (6 * x**2 - 16, 0, 6 * y**2 - 16),
            *m,
        )
        assert m == pytest.approx(exact, rel=3e-16, abs=0)
    assert st.minima[0] == (-2.903534027771177, -2.903534027771177)  # the root, correctly rounded
    assert st.min_value == pytest.approx(-78.33233140754282, abs=1e-13)
    assert SURFACES["ackley"].min_value == 0.0 and SURFACES["saddle"].min_value is None


# --- gradients ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_finite_differences(name):
    """Five-point central differences (error O(h⁴)) at many random points, vectorised.

    h = 1e-4 keeps the truncation error (h⁴·f⁽⁵⁾/30, f⁽⁵⁾ ~ 1e5 on the ripples) near
    1e-13 and the rounding error (≈ 1.5·eps·|f|/h) near 3e-12·|f|: hence the tolerance.
    """
    surface = SURFACES[name]
    x, y = random_points(surface, count=400, seed=1)
    f = surface.value(x, y)
    h = 1e-4
    fx = (-surface.value(x + 2 * h, y) + 8 * surface.value(x + h, y)
          - 8 * surface.value(x - h, y) + surface.value(x - 2 * h, y)) / (12 * h)  # fmt: skip
    fy = (-surface.value(x, y + 2 * h) + 8 * surface.value(x, y + h)
          - 8 * surface.value(x, y - h) + surface.value(x, y - 2 * h)) / (12 * h)  # fmt: skip
    gx, gy = surface.gradient(x, y)
    for exact, estimate in ((gx, fx), (gy, fy)):
        tolerance = 1e-6 * np.abs(estimate) + 1e-10 * np.maximum(1.0, np.abs(f))
        worst = np.argmax(np.abs(exact - estimate) - tolerance)
        assert np.all(np.abs(exact - estimate) <= tolerance), (x[worst], y[worst])


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_torch_autograd(name):
    """A second implementation: autograd through the reference formula, in float64."""

    surface = SURFACES[name]
    x, y = random_points(surface, count=100, seed=2)
    tx, ty = torch.tensor(x, requires_grad=True), torch.tensor(y, requires_grad=True)
    reference(name, tx, ty, lib=torch).sum().backward()
    gx, gy = surface.gradient(x, y)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-10, atol=1e-9)
    np.testing.assert_allclose(gy, ty.grad.numpy(), rtol=1e-10, atol=1e-9)


def test_rosenbrock_matches_scipy():

    x, y = random_points(SURFACES["rosenbrock"], seed=3)
    for point in zip(x, y, strict=True):
        assert SURFACES["rosenbrock"].value(*point) == pytest.approx(scipy.optimize.rosen(point))
        assert SURFACES["rosenbrock"].gradient(*point) == pytest.approx(
            scipy.optimize.rosen_der(point)
        )


@pytest.mark.parametrize("name", NAMES)
def test_gradient_is_finite_everywhere_it_can_be_asked(name):
    surface = SURFACES[name]
    xs, ys, _ = grid(surface, 201)  # includes 0 on every symmetric domain
    for x, y in [(xs[np.newaxis, :], ys[:, np.newaxis]), (0.0, 0.0), (1e-300, -1e-300)]:
        assert np.all(np.isfinite(surface.gradient(x, y)))
    edge = np.array([-1e6, -1.0, 0.0, 1.0, 1e6])  # the API's and the descent's limits
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # not even on the way
        assert np.all(np.isfinite(surface.value(edge[:, np.newaxis], edge)))
        assert np.all(np.isfinite(surface.gradient(edge[:, np.newaxis], edge)))


def test_ackley_origin_has_the_zero_subgradient():
    ackley = SURFACES["ackley"]
    assert tuple(map(float, ackley.gradient(0.0, 0.0))) == (0.0, 0.0)
    assert ackley.value(0.0, 0.0) == 0.0
    # beside the tip the cone's slope is a·b/√2 ≈ 2.83 in every direction: bounded, not 0
    for t in (1e-12, 1e-8):
        assert math.hypot(*ackley.gradient(t, 0.0)) == pytest.approx(20 * 0.2 / math.sqrt(2))


@pytest.mark.parametrize("name", NAMES)
def test_vectorised_equals_pointwise(name):
    surface = SURFACES[name]
    xs, ys, zs = grid(surface, 9)
    assert zs.shape == (9, 9)
    gx, gy = surface.gradient(xs[np.newaxis, :], ys[:, np.newaxis])
    assert gx.shape == gy.shape == (9, 9)
    for j, y in enumerate(ys):
        for i, x in enumerate(xs):
            assert zs[j][i] == pytest.approx(surface.value(float(x), float(y)), rel=1e-12, abs=0)
            point = surface.gradient(float(x), float(y))
            assert (gx[j][i], gy[j][i]) == pytest.approx(point, rel=1e-12, abs=1e-12)


def test_grid_spans_the_domain_and_refuses_one_point():
    surface = SURFACES["six_hump_camel"]
    xs, ys, zs = grid(surface, 5)
    assert xs.tolist() == [-3.0, -1.5, 0.0, 1.5, 3.0] and ys.tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert zs[0][4] == surface.value(3.0, -2.0)
    with pytest.raises(ValueError, match="at least 2"):
        grid(surface, 1)


# --- minima ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_every_listed_minimum_is_a_minimum_global_first(name):
    surface = SURFACES[name]
    for m in surface.minima:
        assert math.hypot(*surface.gradient(*m)) < 1e-9, m
        assert np.all(np.linalg.eigvalsh(hessian(surface, *m)) > 0), m
        assert surface.value(*m) >= surface.min_value - 1e-12
    if surface.minima:
        assert surface.min_value == surface.value(*surface.minima[0])


def _newton(surface, x, y):
    """The stationary point Newton's method reaches from (x, y), or None."""
    for _ in range(100):
        g = np.array(surface.gradient(x, y), dtype=float)
        try:
            dx, dy = np.linalg.solve(hessian(surface, x, y), g)
        except np.linalg.LinAlgError:
            return None
        x, y = x - dx, y - dy
        if abs(dx) + abs(dy) < 1e-14:
            break
    return (x, y) if math.hypot(*surface.gradient(x, y)) < 1e-9 else None


@pytest.mark.parametrize("name", [n for n in NAMES if n != "saddle"])
def test_the_minima_are_all_the_minima_in_the_domain(name):
    """Brute force: every grid point lower than its 8 neighbours, polished by Newton."""
    surface = SURFACES[name]
    xs, ys, zs = grid(surface, 601)
    inner = zs[1:-1, 1:-1]
    lowest = np.ones_like(inner, dtype=bool)
    for dj in (-1, 0, 1):
        for di in (-1, 0, 1):
            if dj or di:
                lowest &= inner < zs[1 + dj : 600 + dj, 1 + di : 600 + di]
    found = []
    for j, i in zip(*np.nonzero(lowest), strict=True):
        m = _newton(surface, xs[i + 1], ys[j + 1])
        if m and np.all(np.linalg.eigvalsh(hessian(surface, *m)) > 0):
            if all(math.dist(m, f) > 1e-6 for f in found):
                found.append(m)
    if name in RIPPLED:
        assert len(found) == 121  # one beside each integer point of [−5, 5]²
        assert min(found, key=lambda m: surface.value(*m)) == pytest.approx((0, 0), abs=1e-9)
    else:
        assert len(found) == len(surface.minima)
        for m in found:
            assert min(math.dist(m, listed) for listed in surface.minima) < 1e-7, m


def test_the_wells_have_four_pits_of_different_depths():
    wells = SURFACES["wells"]
    depths = [wells.value(*m) for m in wells.minima]
    assert len(depths) == 4 and depths == sorted(depths) and len(set(np.round(depths, 3))) == 4
    for (cx, cy, _, _), m in zip(sorted(WELL_PITS, key=lambda p: -p[2]), wells.minima, strict=True):
        assert math.dist((cx, cy), m) < 0.6  # each minimum sits in its own pit


def test_the_ravine_is_ill_conditioned():
    eigenvalues = np.linalg.eigvalsh(hessian(SURFACES["ravine"], 0.3, -0.2))
    assert eigenvalues.max() / eigenvalues.min() == pytest.approx(25) and eigenvalues.min() > 0


# --- the demos ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [n for n in NAMES if n != "saddle"])
def test_plain_gd_from_the_default_start_converges(name):
    surface = SURFACES[name]
    end, steps = plain_gd(surface, surface.default_start, surface.default_lr)
    assert steps is not None, f"{name}: no convergence in 20,000 steps, ended at {end}"
    assert np.all(np.linalg.eigvalsh(hessian(surface, *end)) > 0)  # a minimum, not a saddle
    if name in RIPPLED:  # they teach that the nearest ripple catches you: not the global one
        assert surface.value(*end) > surface.min_value + 1
    else:
        assert min(math.dist(end, m) for m in surface.minima) < 1e-5


def test_the_demos_that_teach_local_minima_miss_the_global_one():
    for name in ("wells", "styblinski_tang"):
        surface = SURFACES[name]
        end, _ = plain_gd(surface, surface.default_start, surface.default_lr)
        assert math.dist(end, surface.minima[0]) > 1


def test_the_ravine_demo_zig_zags():
    ravine = SURFACES["ravine"]
    y = [ravine.default_start[1]]
    for _ in range(10):
        y.append(y[-1] - ravine.default_lr * ravine.gradient(0.0, y[-1])[1])
    assert all(a * b < 0 for a, b in zip(y, y[1:], strict=False))  # across the valley each step


def test_the_saddle_demo_runs_away_along_y():
    saddle = SURFACES["saddle"]
    end, steps = plain_gd(saddle, saddle.default_start, saddle.default_lr, steps=100)
    assert steps is None and abs(end[0]) < 1e-3 and abs(end[1]) > 1.0 and not saddle.minima


def test_the_maths_imports_only_numpy_and_the_standard_library():
    for module in (surfaces, surface_formulas):
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert (
                    top in sys.stdlib_module_names
                    or top == "numpy"
                    or name == "app.surface_formulas"
                ), name
