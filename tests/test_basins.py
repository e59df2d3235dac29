"""Basin maps: every cell ends exactly where a single /ws/descent run from its start ends."""

import math
from dataclasses import dataclass

import numpy as np
import pytest

from app.basins import CONVERGED, DIVERGED, MAX_STEPS, basin_map, merge_minima, run_starts
from app.descent import DescentRun
from app.surfaces import SURFACES

STATES = {"converged": CONVERGED, "max_steps": MAX_STEPS, "diverged": DIVERGED}


@dataclass(frozen=True)
class Products:
    """Himmelblau written with products instead of ``**``.

    Python floats' ``x**2`` calls the interpreter's libm ``pow``, NumPy's calls
    ``square``: on this machine they differ by one ulp in about 0.1 % of squares, so
    the built-in polynomial surfaces can differ from a single run in the last bit.
    Written with products, the array and the float arithmetic are the same
    operations, and every cell must match bit for bit.
    """

    domain: tuple = ((-5.0, 5.0), (-5.0, 5.0))
    default_start: tuple = (0.0, 0.0)
    default_lr: float = 0.01

    @staticmethod
    def value_fn(x, y):
        a, b = x * x + y - 11, x + y * y - 7
        return a * a + b * b

    @staticmethod
    def gradient_fn(x, y):
        a, b = x * x + y - 11, x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b

    value = value_fn
    gradient = gradient_fn


SURFACE_CASES = {**SURFACES, "products": Products()}

# surface, optimizer, lr, hyper, max_steps, bit for bit: chosen so that each mixes outcomes
CASES = [
    ("products", "gd", 0.01, None, 300, True),
    ("products", "gd", 0.03, None, 200, True),  # the corners diverge, some never settle
    ("products", "adam", 0.1, None, 300, True),
    ("wells", "momentum", 0.3, {"momentum": 0.8}, 400, True),
    ("rastrigin", "nesterov", 0.002, None, 300, True),
    ("ackley", "gd", 0.05, None, 300, True),
    ("saddle", "gd", 0.1, None, 300, True),  # no minimum: everything slides off and diverges
    ("bowl", "gd", 1.0, None, 50, True),  # lr 1: x ← −x for ever, never converging
    ("himmelblau", "gd", 0.01, None, 300, False),
    ("six_hump_camel", "adam", 0.05, None, 500, False),
    ("rosenbrock", "rmsprop", 0.01, None, 300, False),
    ("beale", "adagrad", 0.5, None, 300, False),
]


def single_run(surface, start, optimizer, lr, hyper, max_steps):
    run = DescentRun(surface, start, optimizer, lr, hyper, max_steps)
    steps = list(run)
    return run, steps[-1]


def grid_runs(name, optimizer, lr, hyper, max_steps, n=24):
    surface = SURFACE_CASES[name]
    (x0, x1), (y0, y1) = surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)
    return surface, xs, ys, run_starts(surface, gx, gy, optimizer, lr, hyper, max_steps)


@pytest.mark.parametrize(("name", "optimizer", "lr", "hyper", "max_steps", "exact"), CASES)
def test_sampled_cells_match_single_runs(name, optimizer, lr, hyper, max_steps, exact):
    """Half the rows, every column: 288 single runs per case, compared cell by cell."""
    surface, xs, ys, runs = grid_runs(name, optimizer, lr, hyper, max_steps)
    width = surface.domain[0][1] - surface.domain[0][0]
    for j in range(0, len(ys), 2):
        for i in range(len(xs)):
            run, last = single_run(surface, (xs[i], ys[j]), optimizer, lr, hyper, max_steps)
            assert runs.state[j, i] == STATES[run.state], (j, i, run.reason)
            assert runs.steps[j, i] == run.i == last["i"], (j, i)
            end = (runs.x[j, i], runs.y[j, i])
            if exact:  # identical floats, not merely close ones
                assert end == (last["x"], last["y"]), (j, i)
            elif run.state == "converged":  # one ulp of pow, then the same rules
                assert end == pytest.approx((last["x"], last["y"]), abs=1e-12 * width), (j, i)


def test_the_cases_reach_every_outcome():
    """Converged, max_steps and diverged cells all occur, so the comparison tests each rule."""
    outcomes = set()
    for name, optimizer, lr, hyper, max_steps, exact in CASES:
        if exact:
            outcomes |= set(np.unique(grid_runs(name, optimizer, lr, hyper, max_steps)[3].state))
    assert outcomes == {CONVERGED, MAX_STEPS, DIVERGED}


def test_himmelblau_falls_into_its_four_minima():
    surface = SURFACES["himmelblau"]
    result = basin_map(surface, 60, "gd", 0.01, None, 1000)
    assert len(result.minima) == 4
    found = sorted(result.minima)
    listed = sorted(surface.minima)
    assert np.allclose(found, listed, atol=1e-6)
    assert set(np.unique(result.minimum)) == {0, 1, 2, 3}
    # each quadrant's corner region falls into the minimum of that quadrant
    for (mx, my), k in zip(result.minima, range(4), strict=True):
        i = int(np.argmin(np.abs(result.xs - mx)))
        j = int(np.argmin(np.abs(result.ys - my)))
        assert result.minimum[j, i] == k


def test_layout_matches_the_grid_route_and_the_codes():
    surface = SURFACES["saddle"]
    result = basin_map(surface, 5, "gd", 0.1, None, 200)
    assert result.xs.tolist() == np.linspace(-3, 3, 5).tolist()
    assert result.minimum.shape == result.steps.shape == (5, 5)
    # the saddle: every start off the x axis slides away and diverges; on it, it converges
    assert (result.minimum[2] == 0).all() and result.minima == [(0.0, 0.0)]
    assert (np.delete(result.minimum, 2, axis=0) == -2).all()
    short = basin_map(SURFACES["bowl"], 4, "gd", 0.001, None, 3)
    assert (short.minimum == -1).all() and (short.steps == 3).all()


def test_merging_groups_end_points_within_the_tolerance():
    class Flat:
        domain = ((0.0, 1.0), (0.0, 1.0))

        def value(self, x, y):
            return x + y

    from app.basins import GridRuns

    x = np.array([[0.0, 0.0005, 0.5], [0.5004, 0.9, 0.0]])
    y = np.zeros_like(x)
    state = np.array([[CONVERGED, CONVERGED, CONVERGED], [CONVERGED, MAX_STEPS, DIVERGED]])
    labels, minima = merge_minima(Flat(), GridRuns(x, y, state, np.zeros_like(x)), 1e-3)
    # (0, 0) is lowest, so first; 0.5 and 0.5004 merge, and 0.5 is the lower of the two
    assert minima == [(0.0, 0.0), (0.5, 0.0)]
    assert labels.tolist() == [[0, 0, 1], [1, -1, -2]]


def test_bad_settings_are_refused_like_a_single_runs():
    surface = SURFACES["bowl"]
    with pytest.raises(ValueError, match="unknown optimizer"):
        basin_map(surface, 4, "sgd")
    with pytest.raises(ValueError, match="momentum"):
        basin_map(surface, 4, "momentum", 0.1, {"momentum": 2.0})
    with pytest.raises(ValueError, match="learning rate"):
        basin_map(surface, 4, "gd", 0.0)


def test_merging_agrees_with_a_brute_force_greedy_grouping():
    """The cell-bucketed grouping against the plain O(n²) greedy one, on clustered points."""
    from app.basins import GridRuns

    class Flat:
        domain = ((0.0, 1.0), (0.0, 1.0))

        def value(self, x, y):
            return np.zeros_like(x)

    rng = np.random.default_rng(5)
    centres = rng.uniform(0, 1, (30, 2))
    pts = centres[rng.integers(0, 30, 900)] + rng.normal(0, 0.004, (900, 2))
    tolerance = 0.01
    state = np.full((30, 30), CONVERGED)
    labels, minima = merge_minima(
        Flat(), GridRuns(pts[:, 0].reshape(30, 30), pts[:, 1].reshape(30, 30), state, state),
        tolerance,
    )  # fmt: skip
    # brute force: visit the points in order; the first ungrouped takes all ungrouped near it
    group = [-1] * len(pts)
    count = 0
    for k in range(len(pts)):
        if group[k] < 0:
            for m in range(len(pts)):
                if group[m] < 0 and math.dist(pts[m], pts[k]) <= tolerance:
                    group[m] = count
            count += 1
    assert len(minima) == count
    # the same partition of the points (the numbering differs: minima are ordered by depth)
    ours = labels.ravel().tolist()
    assert len({(a, b) for a, b in zip(ours, group, strict=True)}) == count
