"""1-D curves for the ball-on-a-curve page: the registry ``CURVES`` of name → ``Curve``.

Each curve carries f and its exact derivative f′ side by side, broadcast over
NumPy arrays like the surfaces.  A descent on a curve is a surface run on
f(x, y) = c(x) whose y never moves (``Curve.surface``): ∂f/∂y = 0, so every
optimizer leaves y where it started and the run's rules — convergence,
divergence, max_steps — are the 2-D ones, word for word.  Minima are found at
import time by Newton's method on the exact f′ and f″, so they are exact to
rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CURVES", "Curve"]

Array = np.ndarray | float


@dataclass(frozen=True)
class Curve:
    """A curve y = f(x): formula, plotting domain, minima and a demo that works."""

    name: str
    title: str
    formula: str
    description: str
    domain: tuple[float, float]
    minima: list[float]
    default_start: float
    default_lr: float
    value_fn: Callable[[Array], Array] = field(repr=False)
    derivative_fn: Callable[[Array], Array] = field(repr=False)
    second_fn: Callable[[Array], Array] = field(repr=False)

    def value(self, x: Array) -> Array:
        """f(x), broadcast over float arrays."""
        return self.value_fn(x)

    def derivative(self, x: Array) -> Array:
        """f′(x), exact; for an array, an array of its shape."""
        return self.derivative_fn(x)

    def second(self, x: Array) -> Array:
        """f″(x), exact: tells a minimum (f″ > 0) from a maximum."""
        return self.second_fn(x)

    @property
    def surface(self) -> CurveSurface:
        """The curve as a surface f(x, y) = c(x), for app.descent's runs."""
        return CurveSurface(self)


@dataclass(frozen=True)
class CurveSurface:
    """A curve seen as a surface flat along y: what ``DescentRun`` needs of one."""

    curve: Curve

    @property
    def default_start(self) -> tuple[float, float]:
        return (self.curve.default_start, 0.0)

    @property
    def default_lr(self) -> float:
        return self.curve.default_lr

    @property
    def domain(self) -> tuple[tuple[float, float], tuple[float, float]]:
        return (self.curve.domain, (-1.0, 1.0))

    def value_fn(self, x: Array, y: Array) -> Array:
        return self.curve.value_fn(x)

    def gradient_fn(self, x: Array, y: Array) -> tuple[Array, Array]:
        return self.curve.derivative_fn(x), 0.0

    value = value_fn

    def gradient(self, x: Array, y: Array) -> tuple[Array, Array]:
        g = self.curve.derivative(x)
        return g, g * 0.0


# --- the formulas, each value beside its derivatives ---------------------------------------

WELL_TILT = 0.3  # tilts the double well so that one pit is deeper than the other


def double_well(x: Array) -> Array:
    """(x² − 1)² + 0.3x: two pits near ±1, the left one deeper."""
    return (x * x - 1) ** 2 + WELL_TILT * x


def double_well_d(x: Array) -> Array:
    return 4 * x * (x * x - 1) + WELL_TILT


def double_well_dd(x: Array) -> Array:
    return 12 * x * x - 4


def quartic(x: Array) -> Array:
    """x⁴ − 3x³ + 2: f′ = x²(4x − 9), a flat inflection at 0 and the minimum at 9/4."""
    return x**4 - 3 * x**3 + 2


def quartic_d(x: Array) -> Array:
    return 4 * x**3 - 9 * x**2


def quartic_dd(x: Array) -> Array:
    return 12 * x**2 - 18 * x


def wavy(x: Array) -> Array:
    """0.1x² + sin 3x: a bowl covered in ripples, a local minimum in many of them."""
    return 0.1 * x * x + np.sin(3 * x)


def wavy_d(x: Array) -> Array:
    return 0.2 * x + 3 * np.cos(3 * x)


def wavy_dd(x: Array) -> Array:
    return 0.2 - 9 * np.sin(3 * x)


def _minima(d: Callable, dd: Callable, domain: tuple[float, float], n: int = 400) -> list[float]:
    """Every minimum inside ``domain``, left to right.

    Brackets each sign change of f′ from − to + on a fine grid, then polishes it
    by Newton's method on the exact f′ and f″.
    """
    xs = np.linspace(*domain, n)
    ds = np.asarray(d(xs), dtype=float)
    found = []
    for k in np.flatnonzero((ds[:-1] < 0) & (ds[1:] >= 0)):
        x = 0.5 * (xs[k] + xs[k + 1])
        for _ in range(60):
            step = float(d(x)) / float(dd(x))
            x -= step
            if abs(step) <= 1e-15 * (1 + abs(x)):
                break
        if not (abs(float(d(x))) < 1e-9 and float(dd(x)) > 0):
            raise ArithmeticError(f"Newton's method found no minimum near {xs[k]}")
        found.append(float(x))
    return found


def _curve(value, d, dd, domain, **fields) -> Curve:
    return Curve(
        minima=_minima(d, dd, domain),
        domain=domain,
        value_fn=value,
        derivative_fn=d,
        second_fn=dd,
        **fields,
    )


CURVES: dict[str, Curve] = {
    c.name: c
    for c in (
        _curve(
            double_well, double_well_d, double_well_dd, (-2.0, 2.0),
            name="double_well", title="Double well", formula="f(x) = (x² − 1)² + 0.3x",
            description="Two pits: start on the right and the ball stops in the shallower one.",
            default_start=1.8, default_lr=0.02,
        ),
        _curve(
            quartic, quartic_d, quartic_dd, (-1.0, 3.5),
            name="quartic", title="Quartic", formula="f(x) = x⁴ − 3x³ + 2",
            description="Flat at x = 0 without being a minimum: from the left, steps crawl there.",
            default_start=3.3, default_lr=0.01,
        ),
        _curve(
            wavy, wavy_d, wavy_dd, (-5.0, 5.0),
            name="wavy", title="Wavy", formula="f(x) = 0.1x² + sin 3x",
            description="Ripples on a bowl: the ball stops in the nearest dip, not the lowest.",
            default_start=3.9, default_lr=0.05,
        ),
    )
}  # fmt: skip
