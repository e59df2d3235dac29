"""The 2-D test surfaces: the registry ``SURFACES`` of name → ``Surface``.

A ``Surface`` carries its formula (value, exact gradient and Hessian, from
app.surface_formulas), the domain it is plotted on, its known minima and a demo
start and learning rate that plain gradient descent converges from.  Minima with no
closed form (the wells, six-hump camel, Styblinski–Tang, three of Himmelblau's) are
found at import time by Newton's method on the exact gradient, from published
approximations, so they are exact to rounding.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from app import surface_formulas as sf

__all__ = ["SURFACES", "Surface", "grid"]

Array = np.ndarray | float
Point = tuple[float, float]
Gradient = Callable[[Array, Array], tuple[Array, Array]]
HessianParts = Callable[[Array, Array], tuple[Array, Array, Array]]
Hessian = tuple[tuple[Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class Surface:
    """A test surface: formula, plotting domain, known minima and a demo that works.

    ``minima`` lists (x, y) with the global minimum first; ``min_value`` is the
    global minimum value (None where f has no minimum).  ``log_color`` says the
    values span many orders of magnitude, so the page colours log(f − min_value + 1).
    """

    name: str
    title: str
    formula: str
    description: str
    domain: tuple[Point, Point]
    minima: list[Point]
    min_value: float | None
    default_start: Point
    default_lr: float
    log_color: bool
    value_fn: Callable[[Array, Array], Array] = field(repr=False)
    gradient_fn: Gradient = field(repr=False)
    hessian_fn: HessianParts = field(repr=False)

    def value(self, x: Array, y: Array) -> Array:
        """f(x, y), broadcast over float arrays (a float for a point)."""
        return self.value_fn(x, y)

    def gradient(self, x: Array, y: Array) -> tuple[Array, Array]:
        """(∂f/∂x, ∂f/∂y), exact; for arrays both parts have the shape of f(x, y)."""
        gx, gy = self.gradient_fn(x, y)
        if isinstance(gx, np.ndarray) or isinstance(gy, np.ndarray):
            # 2x and 2y (the bowl) keep the shapes of x and y: give both the grid's shape
            gx, gy = (np.array(g, dtype=float) for g in np.broadcast_arrays(gx, gy))
        return gx, gy

    def hessian(self, x: Array, y: Array) -> Hessian:
        """((fxx, fxy), (fxy, fyy)), exact; for arrays every entry has the shape of f(x, y).

        NaN where f has no second derivative (Ackley's cone tip).
        """
        hxx, hxy, hyy = self.hessian_fn(x, y)
        if any(isinstance(v, np.ndarray) for v in (x, y, hxx, hxy, hyy)):
            # constant entries (the quadratics) take the shape of the points they describe
            shape = np.broadcast_shapes(np.shape(x), np.shape(y))
            hxx, hxy, hyy = (np.broadcast_to(np.asarray(h, dtype=float), shape).copy()
                             for h in (hxx, hxy, hyy))  # fmt: skip
        return (hxx, hxy), (hxy, hyy)


def grid(surface: Surface, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample f on n × n points of the domain: zs[j][i] = f(xs[i], ys[j]), as Plotly draws it."""
    if n < 2:
        raise ValueError(f"a grid needs at least 2 points per axis, not {n}")
    (x0, x1), (y0, y1) = surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    zs = surface.value(xs[np.newaxis, :], ys[:, np.newaxis])
    return xs, ys, np.asarray(zs, dtype=float)


# --- minima without a closed form -------------------------------------------------------


def _polish(gradient: Gradient, guess: Point, steps: int = 60) -> Point:
    """Newton's method from ``guess`` to the stationary point beside it.

    The Hessian is central differences of the exact gradient: it only steers the
    steps, while the point they stop at (∇f = 0) is exact to rounding.
    """
    x, y = map(float, guess)
    for _ in range(steps):
        gx, gy = map(float, gradient(x, y))
        h = 1e-6 * max(1.0, abs(x), abs(y))
        hxx, hyx = (np.subtract(gradient(x + h, y), gradient(x - h, y)) / (2 * h)).tolist()
        hxy, hyy = (np.subtract(gradient(x, y + h), gradient(x, y - h)) / (2 * h)).tolist()
        hxy = 0.5 * (hxy + hyx)
        det = hxx * hyy - hxy * hxy
        dx, dy = (hyy * gx - hxy * gy) / det, (hxx * gy - hxy * gx) / det
        x, y = x - dx, y - dy
        if abs(dx) + abs(dy) <= 1e-15 * (1 + abs(x) + abs(y)):
            break
    if not math.hypot(*gradient(x, y)) < 1e-9:
        raise ArithmeticError(f"Newton's method from {guess} found no stationary point")
    return x, y


def _minima(value: Callable, gradient: Gradient, guesses: Iterable[Point]) -> list[Point]:
    """The minima beside ``guesses``, polished, deepest first."""
    return sorted((_polish(gradient, g) for g in guesses), key=lambda m: float(value(*m)))


def _surface(
    value_fn: Callable,
    gradient_fn: Gradient,
    hessian_fn: HessianParts,
    minima: list[Point],
    **fields,
) -> Surface:
    """A Surface whose ``min_value`` is f at its first (global) minimum."""
    min_value = float(value_fn(*minima[0])) if minima else None
    return Surface(
        minima=minima,
        min_value=min_value,
        value_fn=value_fn,
        gradient_fn=gradient_fn,
        hessian_fn=hessian_fn,
        **fields,
    )


_ST_IN, _ST_OUT = -2.903534, 2.746803  # roots of 4t³ − 32t + 5 beside Styblinski–Tang's minima

SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        _surface(
            sf.bowl, sf.bowl_grad, sf.bowl_hess, [(0.0, 0.0)],
            name="bowl", title="Bowl", formula="f(x, y) = x² + y²",
            description="The simplest valley: the gradient points straight away from the bottom.",
            domain=((-3.0, 3.0), (-3.0, 3.0)),
            default_start=(2.5, -1.8), default_lr=0.1, log_color=False,
        ),
        _surface(
            sf.ravine, sf.ravine_grad, sf.ravine_hess, [(0.0, 0.0)],
            name="ravine", title="Ravine", formula="f(x, y) = ½(x² + 25y²)",
            description="A narrow valley (condition number 25): plain descent zig-zags across it.",
            domain=((-4.0, 4.0), (-2.0, 2.0)),
            # 1 − 25·lr = −0.75: every step overshoots across the valley, yet converges
            default_start=(-3.5, 1.2), default_lr=0.07, log_color=False,
        ),
        _surface(
            sf.saddle, sf.saddle_grad, sf.saddle_hess, [],
            name="saddle", title="Saddle", formula="f(x, y) = x² − y²",
            description="No minimum: descent slides off along y, away from the flat saddle point.",
            domain=((-3.0, 3.0), (-3.0, 3.0)),
            default_start=(2.5, 0.05), default_lr=0.05, log_color=False,
        ),
        _surface(
            sf.wells, sf.wells_grad, sf.wells_hess,
            _minima(sf.wells, sf.wells_grad, [(cx, cy) for cx, cy, _, _ in sf.WELLS_PITS]),
            name="wells", title="Wells",
            formula="f(x, y) = 0.02(x² + y²) − Σ dₖ·exp(−|p − cₖ|² / 2wₖ²)",
            description="Four pits of different depths: where you start decides where you land.",
            domain=((-5.0, 5.0), (-5.0, 5.0)),
            default_start=(0.2, -0.5), default_lr=0.5, log_color=False,
        ),
        _surface(
            sf.rosenbrock, sf.rosenbrock_grad, sf.rosenbrock_hess, [(1.0, 1.0)],
            name="rosenbrock", title="Rosenbrock", formula="f(x, y) = (1 − x)² + 100(y − x²)²",
            description="A curved banana valley: easy to find, slow to follow to its end, (1, 1).",
            domain=((-2.0, 2.0), (-1.0, 3.0)),
            default_start=(-1.5, 2.0), default_lr=0.0018, log_color=True,
        ),
        _surface(
            sf.himmelblau, sf.himmelblau_grad, sf.himmelblau_hess,
            [(3.0, 2.0)] + _minima(
                sf.himmelblau, sf.himmelblau_grad,
                [(-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)],
            ),
            name="himmelblau", title="Himmelblau",
            formula="f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
            description="Four minima of equal depth: the start picks one.",
            domain=((-5.0, 5.0), (-5.0, 5.0)),
            default_start=(-0.5, -0.5), default_lr=0.01, log_color=True,
        ),
        _surface(
            # its local minimum beside every integer point is not listed: 120 in the domain
            sf.rastrigin, sf.rastrigin_grad, sf.rastrigin_hess, [(0.0, 0.0)],
            name="rastrigin", title="Rastrigin", formula="f(x, y) = 20 + Σ (t² − 10·cos 2πt)",
            description="An egg-crate of local minima: descent stops in the nearest one.",
            domain=((-5.12, 5.12), (-5.12, 5.12)),
            default_start=(2.3, -1.7), default_lr=0.002, log_color=False,
        ),
        _surface(
            # like Rastrigin: local minima unlisted
            sf.ackley, sf.ackley_grad, sf.ackley_hess, [(0.0, 0.0)],
            name="ackley", title="Ackley",
            formula="f(x, y) = −20·exp(−0.2·√(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + 20 + e",
            description="A funnel covered in ripples: small steps get caught in the ripples.",
            domain=((-5.0, 5.0), (-5.0, 5.0)),
            default_start=(1.7, -1.3), default_lr=0.01, log_color=False,
        ),
        _surface(
            sf.beale, sf.beale_grad, sf.beale_hess, [(3.0, 0.5)],
            name="beale", title="Beale",
            formula="f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            description="Flat plateaus and steep walls: the slope changes by orders of magnitude.",
            domain=((-4.5, 4.5), (-4.5, 4.5)),
            default_start=(1.0, 1.4), default_lr=0.01, log_color=True,
        ),
        _surface(
            sf.booth, sf.booth_grad, sf.booth_hess, [(1.0, 3.0)],
            name="booth", title="Booth", formula="f(x, y) = (x + 2y − 7)² + (2x + y − 5)²",
            description="A tilted bowl: its minimum (1, 3) is not where the axes meet.",
            domain=((-10.0, 10.0), (-10.0, 10.0)),
            default_start=(-7.0, -6.0), default_lr=0.05, log_color=False,
        ),
        _surface(
            sf.six_hump_camel, sf.six_hump_camel_grad, sf.six_hump_camel_hess,
            _minima(
                sf.six_hump_camel, sf.six_hump_camel_grad,
                [(0.0898, -0.7126), (-0.0898, 0.7126), (1.7036, -0.7961), (-1.7036, 0.7961),
                 (1.6071, 0.5687), (-1.6071, -0.5687)],
            ),
            name="six_hump_camel", title="Six-hump camel",
            formula="f(x, y) = (4 − 2.1x² + x⁴/3)x² + xy + (4y² − 4)y²",
            description="Six minima, two of them global: a landscape with many wrong answers.",
            domain=((-3.0, 3.0), (-2.0, 2.0)),
            default_start=(-1.0, -1.0), default_lr=0.01, log_color=True,
        ),
        _surface(
            sf.styblinski_tang, sf.styblinski_tang_grad, sf.styblinski_tang_hess,
            _minima(
                sf.styblinski_tang, sf.styblinski_tang_grad,
                [(_ST_IN, _ST_IN), (_ST_IN, _ST_OUT), (_ST_OUT, _ST_IN), (_ST_OUT, _ST_OUT)],
            ),
            name="styblinski_tang", title="Styblinski–Tang",
            formula="f(x, y) = ½ Σ (t⁴ − 16t² + 5t)",
            description="Four minima, one deepest: the start decides which one you fall into.",
            domain=((-5.0, 5.0), (-5.0, 5.0)),
            default_start=(0.5, 0.3), default_lr=0.01, log_color=True,
        ),
    )
}  # fmt: skip
