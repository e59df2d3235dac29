"""Basin maps: where does each start of a grid end up?

Every start of an n × n grid over the domain runs at once, as one array per
coordinate, under exactly a ``/ws/descent`` run's rules (app.descent): the same
optimizer class, learning rate and ``max_steps``; converged when |∇f| < 1e-6 or
the point stops moving; diverged when a value is not finite or a coordinate
leaves |·| ≤ 1e6.  A start that finishes is dropped from the work (its optimizer
state too), so the grid costs what its slowest runs cost, not n² full runs.

The optimizers' array update (``Optimizer.step``) performs the same IEEE
operations as the single run's float update, so every cell ends exactly where a
single run from its start ends, after the same number of steps
(tests/test_basins.py compares them).

The surface can be anything with ``domain``, ``value(x, y)`` and ``gradient(x, y)``
broadcast over arrays (a built-in ``Surface``, or a typed formula's).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from app.descent import COORDINATE_LIMIT, GRADIENT_TOLERANCE, STILL
from app.optimizers import make_optimizer

__all__ = [
    "CONVERGED",
    "DIVERGED",
    "MAX_STEPS",
    "MERGE_FRACTION",
    "BasinMap",
    "GridRuns",
    "Landscape",
    "basin_map",
    "merge_minima",
    "run_starts",
]

# the states of a finished start, as small integers
CONVERGED, MAX_STEPS, DIVERGED = 0, 1, 2
MERGE_FRACTION = 1e-3  # end points closer than this share of the domain's width: one minimum


class Landscape(Protocol):
    """What a basin map needs of a surface: its domain, f and ∇f over arrays."""

    @property
    def domain(self) -> tuple[tuple[float, float], tuple[float, float]]: ...

    def value(self, x: Any, y: Any) -> Any: ...

    def gradient(self, x: Any, y: Any) -> tuple[Any, Any]: ...


@dataclass
class GridRuns:
    """Where each start finished: end point, state (CONVERGED, …) and updates taken.

    The arrays have the starts' shape.  A diverged run's end point is its last
    finite step, as a single run's is (the diverging step is never produced).
    """

    x: np.ndarray
    y: np.ndarray
    state: np.ndarray
    steps: np.ndarray


@dataclass
class BasinMap:
    """The basin map of DESIGN.md: ``minimum[j][i]`` for the start (xs[i], ys[j]).

    ``minimum`` indexes ``minima`` (deepest first), or is -1 where the run reached
    max_steps and -2 where it diverged; ``steps`` counts each run's updates.
    """

    xs: np.ndarray
    ys: np.ndarray
    minimum: np.ndarray
    steps: np.ndarray
    minima: list[tuple[float, float]]


def run_starts(
    surface: Landscape,
    x0: np.ndarray,
    y0: np.ndarray,
    optimizer: str = "gd",
    lr: float = 0.01,
    hyper: dict[str, Any] | None = None,
    max_steps: int = 1000,
    time_limit: float | None = None,
) -> GridRuns:
    """Run descent from every start (x0[k], y0[k]) at once, each as a single run would.

    Raises ValueError for an unknown optimizer, a bad hyper-parameter or lr, or
    starts beyond ±1e6 — as a single run does — and TimeoutError once the work
    takes longer than ``time_limit`` seconds (None: no limit).
    """
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    if int(max_steps) != max_steps or max_steps < 0:
        raise ValueError(f"max_steps must be a whole number ≥ 0, not {max_steps!r}")
    if not (np.isfinite(lr) and lr > 0):
        raise ValueError(f"the learning rate must be a positive finite number, not {lr!r}")
    opt = make_optimizer(optimizer, float(lr), hyper)
    if opt.noisy:
        raise ValueError(
            f"a basin map needs a deterministic optimizer: {optimizer} is random, "
            "so one start has no single end"
        )
    shape = np.shape(x0)
    x = np.array(x0, dtype=float).ravel()
    y = np.array(y0, dtype=float).ravel()
    if not np.all((np.abs(x) <= COORDINATE_LIMIT) & (np.abs(y) <= COORDINATE_LIMIT)):
        raise ValueError("every start must lie within ±1e6")
    end_x, end_y = x.copy(), y.copy()
    state = np.full(x.shape, CONVERGED, dtype=np.int8)
    steps = np.zeros(x.shape, dtype=np.int64)

    with np.errstate(all="ignore"):
        f, gx, gy = _evaluate(surface, x, y)
        finite = np.isfinite(f) & np.isfinite(gx) & np.isfinite(gy)
        state[~finite] = DIVERGED  # no finite value at the start
        norm = np.hypot(gx, gy)
        live = finite & ~(norm < GRADIENT_TOLERANCE)  # converged at the start
        if max_steps == 0:
            state[live] = MAX_STEPS
            live[:] = False
        index = np.flatnonzero(live)  # the starts still running
        x, y, gx, gy = x[index], y[index], gx[index], gy[index]
        for i in range(1, int(max_steps) + 1):
            if index.size == 0:
                break
            if deadline is not None and time.perf_counter() > deadline:
                raise TimeoutError(
                    f"{index.size:,} starts still running after {i - 1:,} steps "
                    f"and {time_limit:g} s"
                )
            nx, ny = x.copy(), y.copy()
            opt.step([nx, ny], [gx, gy])
            inside = (np.abs(nx) <= COORDINATE_LIMIT) & (np.abs(ny) <= COORDINATE_LIMIT)
            f, ngx, ngy = _evaluate(surface, nx, ny)
            ok = inside & np.isfinite(f) & np.isfinite(ngx) & np.isfinite(ngy)
            moved = np.hypot(nx - x, ny - y)
            done = (np.hypot(ngx, ngy) < GRADIENT_TOLERANCE) | (
                moved <= STILL * (1.0 + np.hypot(nx, ny))
            )
            done &= ok
            diverged = ~ok
            # a diverged run ends at its last good step, i − 1 updates
            state[index[diverged]] = DIVERGED
            steps[index[diverged]] = i - 1
            end_x[index[diverged]], end_y[index[diverged]] = x[diverged], y[diverged]
            finished = done if i < max_steps else ok  # the last update ends every run
            state[index[finished & ~done]] = MAX_STEPS
            steps[index[finished]] = i
            end_x[index[finished]], end_y[index[finished]] = nx[finished], ny[finished]
            keep = ok & ~finished
            if not keep.all():
                opt.keep(keep)
                index = index[keep]
                nx, ny, ngx, ngy = nx[keep], ny[keep], ngx[keep], ngy[keep]
            x, y, gx, gy = nx, ny, ngx, ngy
    return GridRuns(
        end_x.reshape(shape), end_y.reshape(shape), state.reshape(shape), steps.reshape(shape)
    )


def _evaluate(surface: Landscape, x: np.ndarray, y: np.ndarray):
    """f and ∇f over the arrays, as float arrays of their shape (inf where overflowing)."""
    f = np.broadcast_to(np.asarray(surface.value(x, y), dtype=float), x.shape)
    gx, gy = surface.gradient(x, y)
    gx = np.broadcast_to(np.asarray(gx, dtype=float), x.shape)
    gy = np.broadcast_to(np.asarray(gy, dtype=float), x.shape)
    return f, gx, gy


def merge_minima(
    surface: Landscape, runs: GridRuns, tolerance: float
) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """Group the converged end points lying within ``tolerance`` of each other.

    Returns each start's minimum index (-1 max_steps, -2 diverged) and the minima,
    deepest first; a minimum is the lowest end point of its group.  Greedy: the
    first ungrouped point (row-major) takes every ungrouped point near it.
    """
    label = np.where(runs.state == MAX_STEPS, -1, -2).astype(np.int64)
    ok = np.flatnonzero((runs.state == CONVERGED).ravel())
    if ok.size == 0:
        return label, []
    ex, ey = runs.x.ravel()[ok], runs.y.ravel()[ok]
    group = _greedy_groups(ex, ey, tolerance)
    with np.errstate(all="ignore"):
        values = np.asarray(surface.value(ex, ey), dtype=float)
    values = np.where(np.isnan(values), np.inf, values)
    # the lowest end point of each group: sort by group, then value; take each group's first
    order = np.lexsort((values, group))
    firsts = np.flatnonzero(np.r_[True, group[order][1:] != group[order][:-1]])
    best = order[firsts]  # best[g]: the lowest member of group g
    rank = np.argsort(values[best], kind="stable")  # deepest first
    new_index = np.empty(len(best), dtype=np.int64)
    new_index[rank] = np.arange(len(best))
    flat = label.ravel()
    flat[ok] = new_index[group]
    minima = [(float(ex[best[r]]), float(ey[best[r]])) for r in rank]
    return flat.reshape(label.shape), minima


def _greedy_groups(ex: np.ndarray, ey: np.ndarray, tolerance: float) -> np.ndarray:
    """Group numbers 0, 1, … for points: the first ungrouped point takes all ungrouped near it."""
    # identical end points (the usual case: many starts, few minima) are grouped once
    points, first, inverse = np.unique(
        np.stack([ex, ey], axis=1), axis=0, return_index=True, return_inverse=True
    )
    order = np.argsort(first)  # visit in the starts' order, so labels do not hang on sorting
    points, inverse = points[order], np.argsort(order)[inverse.ravel()]
    # only points in the same or a neighbouring cell of side ``tolerance`` can be near
    size = tolerance if tolerance > 0 else 1.0
    cx = np.floor(points[:, 0] / size).astype(np.int64).tolist()
    cy = np.floor(points[:, 1] / size).astype(np.int64).tolist()
    cells: dict[tuple[int, int], list[int]] = {}
    for k, key in enumerate(zip(cx, cy, strict=True)):
        cells.setdefault(key, []).append(k)
    px, py = points[:, 0].tolist(), points[:, 1].tolist()
    point_group = [-1] * len(points)
    groups = 0
    for k in range(len(points)):
        if point_group[k] >= 0:
            continue
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for m in cells.get((cx[k] + dx, cy[k] + dy), ()):
                    near = math.hypot(px[m] - px[k], py[m] - py[k]) <= tolerance
                    if point_group[m] < 0 and near:
                        point_group[m] = groups
        groups += 1
    return np.asarray(point_group, dtype=np.int64)[inverse]


def basin_map(
    surface: Landscape,
    n: int = 100,
    optimizer: str = "gd",
    lr: float = 0.01,
    hyper: dict[str, Any] | None = None,
    max_steps: int = 1000,
    time_limit: float | None = None,
) -> BasinMap:
    """The basin map of an n × n grid spanning the domain, both ends included.

    TimeoutError when the runs take longer than ``time_limit`` seconds.
    """
    if n < 2:
        raise ValueError(f"a basin map needs at least 2 points per axis, not {n}")
    (x0, x1), (y0, y1) = surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    gx, gy = np.meshgrid(xs, ys)  # gx[j][i] = xs[i], gy[j][i] = ys[j]
    runs = run_starts(surface, gx, gy, optimizer, lr, hyper, max_steps, time_limit)
    minimum, minima = merge_minima(surface, runs, MERGE_FRACTION * (x1 - x0))
    return BasinMap(xs, ys, minimum, runs.steps, minima)
