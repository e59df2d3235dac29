"""Two-dimensional test surfaces, each a value beside its exact gradient.

Every function broadcasts over NumPy arrays (like ``scipy.optimize.rosen``), so
one definition serves a single point and a whole contour grid.  Gradients are
analytic, never finite differences, and finite everywhere: where a surface has a
kink (Ackley's origin) the gradient is a subgradient, 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SURFACES", "Surface", "grid"]

Array = np.ndarray | float
Gradient = Callable[[Array, Array], tuple[Array, Array]]


@dataclass(frozen=True)
class Surface:
    """A test surface: formula, plotting domain, known minima and a demo that works."""

    name: str
    title: str
    formula: str
    description: str
    domain: tuple[tuple[float, float], tuple[float, float]]
    minima: list[tuple[float, float]]
    min_value: float | None
    default_start: tuple[float, float]
    default_lr: float
    log_color: bool
    value_fn: Callable[[Array, Array], Array] = field(repr=False)
    gradient_fn: Gradient = field(repr=False)

    def value(self, x: Array, y: Array) -> Array:
        """f(x, y), broadcast over arrays."""
        return self.value_fn(x, y)

    def gradient(self, x: Array, y: Array) -> tuple[Array, Array]:
        """(∂f/∂x, ∂f/∂y), exact, broadcast over arrays."""
        return self.gradient_fn(x, y)

    def describe(self) -> dict:
        """The JSON description the page needs (GET /api/surfaces)."""
        return {
            "name": self.name,
            "title": self.title,
            "formula": self.formula,
            "description": self.description,
            "domain": [list(self.domain[0]), list(self.domain[1])],
            "minima": [list(m) for m in self.minima],
            "minima_values": [float(self.value(*m)) for m in self.minima],
            "min_value": self.min_value,
            "default_start": list(self.default_start),
            "default_lr": self.default_lr,
            "log_color": self.log_color,
        }


# --- the formulas: each value next to its gradient --------------------------------


def bowl(x, y):
    return x**2 + y**2


def bowl_grad(x, y):
    return 2 * x, 2 * y


RAVINE_A, RAVINE_B = 1.0, 25.0  # curvatures 2 and 50: condition number 25


def ravine(x, y):
    return 0.5 * (RAVINE_A * x**2 + RAVINE_B * y**2)


def ravine_grad(x, y):
    return RAVINE_A * x, RAVINE_B * y


def saddle(x, y):
    return x**2 - y**2


def saddle_grad(x, y):
    return 2 * x, -2 * y


def rosenbrock(x, y):
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(x, y):
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def himmelblau(x, y):
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def himmelblau_grad(x, y):
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def rastrigin(x, y):
    return 20 + (x**2 - 10 * np.cos(2 * np.pi * x)) + (y**2 - 10 * np.cos(2 * np.pi * y))


def rastrigin_grad(x, y):
    return (
        2 * x + 20 * np.pi * np.sin(2 * np.pi * x),
        2 * y + 20 * np.pi * np.sin(2 * np.pi * y),
    )


ACKLEY_A, ACKLEY_B, ACKLEY_C = 20.0, 0.2, 2 * np.pi


def ackley(x, y):
    r = np.sqrt(0.5 * (x**2 + y**2))
    mean_cos = 0.5 * (np.cos(ACKLEY_C * x) + np.cos(ACKLEY_C * y))
    return -ACKLEY_A * np.exp(-ACKLEY_B * r) - np.exp(mean_cos) + ACKLEY_A + np.e


def ackley_grad(x, y):
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    r = np.sqrt(0.5 * (x**2 + y**2))
    # d/dx of -a·exp(-b·r) is a·b·exp(-b·r)·x / (2r); at r = 0 the subgradient 0.
    safe_r = np.where(r > 0, r, 1.0)
    radial = np.where(r > 0, ACKLEY_A * ACKLEY_B * np.exp(-ACKLEY_B * r) / (2 * safe_r), 0.0)
    wave = np.exp(0.5 * (np.cos(ACKLEY_C * x) + np.cos(ACKLEY_C * y))) * 0.5 * ACKLEY_C
    return radial * x + wave * np.sin(ACKLEY_C * x), radial * y + wave * np.sin(ACKLEY_C * y)


def beale(x, y):
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def beale_grad(x, y):
    t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    gx = 2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1)
    gy = 2 * t1 * x + 2 * t2 * 2 * x * y + 2 * t3 * 3 * x * y**2
    return gx, gy


def booth(x, y):
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def booth_grad(x, y):
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return 2 * a + 4 * b, 4 * a + 2 * b


def six_hump_camel(x, y):
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def six_hump_camel_grad(x, y):
    return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3


def styblinski_tang(x, y):
    return 0.5 * ((x**4 - 16 * x**2 + 5 * x) + (y**4 - 16 * y**2 + 5 * y))


def styblinski_tang_grad(x, y):
    return 0.5 * (4 * x**3 - 32 * x + 5), 0.5 * (4 * y**3 - 32 * y + 5)


# Wells: a gentle bowl with Gaussian pits (centre x, centre y, depth, width).
WELLS_BOWL = 0.02
WELLS_PITS = (
    (2.0, 2.0, 3.0, 1.0),
    (-2.5, 1.5, 2.0, 1.0),
    (-1.5, -2.5, 2.5, 0.9),
    (2.5, -2.0, 1.5, 0.8),
)


def wells(x, y):
    total = WELLS_BOWL * (x**2 + y**2)
    for cx, cy, depth, width in WELLS_PITS:
        total = total - depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2))
    return total


def wells_grad(x, y):
    gx, gy = 2 * WELLS_BOWL * x, 2 * WELLS_BOWL * y
    for cx, cy, depth, width in WELLS_PITS:
        pit = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2)) / width**2
        gx = gx + pit * (x - cx)
        gy = gy + pit * (y - cy)
    return gx, gy


# --- minima found by Newton's method where no closed form exists -------------------


def _refine_minimum(gradient: Gradient, x: float, y: float, steps: int = 50) -> tuple[float, float]:
    """Polish an approximate minimum with Newton steps on the exact gradient.

    The Hessian comes from central differences of the exact gradient: only the
    search direction depends on it, the fixed point (gradient = 0) does not.
    """
    h = 1e-6
    for _ in range(steps):
        gx, gy = gradient(x, y)
        hxx = (gradient(x + h, y)[0] - gradient(x - h, y)[0]) / (2 * h)
        hxy = (gradient(x, y + h)[0] - gradient(x, y - h)[0]) / (2 * h)
        hyy = (gradient(x, y + h)[1] - gradient(x, y - h)[1]) / (2 * h)
        det = hxx * hyy - hxy * hxy
        dx, dy = (hyy * gx - hxy * gy) / det, (hxx * gy - hxy * gx) / det
        x, y = float(x - dx), float(y - dy)
        if abs(dx) + abs(dy) < 1e-15:
            break
    return x, y


def _refined(gradient: Gradient, guesses) -> list[tuple[float, float]]:
    return [_refine_minimum(gradient, gx, gy) for gx, gy in guesses]


WELLS_MINIMA = sorted(
    _refined(wells_grad, [(cx, cy) for cx, cy, _, _ in WELLS_PITS]), key=lambda m: wells(*m)
)
SIX_HUMP_MINIMA = _refined(
    six_hump_camel_grad,
    [
        (0.0898, -0.7126),
        (-0.0898, 0.7126),
        (1.7036, -0.7961),
        (-1.7036, 0.7961),
        (1.6071, 0.5687),
        (-1.6071, -0.5687),
    ],
)
ST = -2.9035340277711783  # the root of 4t³ − 32t + 5 = 0 that gives the global minimum
ST_LOCAL = 2.7468027709908376
HIMMELBLAU_MINIMA = [(3.0, 2.0)] + _refined(
    himmelblau_grad, [(-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848126)]
)


def _surface(
    name,
    title,
    formula,
    description,
    domain,
    minima,
    start,
    lr,
    log_color,
    value_fn,
    gradient_fn,
    min_value="first",
) -> Surface:
    if min_value == "first":
        min_value = float(value_fn(*minima[0])) if minima else None
    return Surface(
        name,
        title,
        formula,
        description,
        domain,
        minima,
        min_value,
        start,
        lr,
        log_color,
        value_fn,
        gradient_fn,
    )


SURFACES: dict[str, Surface] = {
    s.name: s
    for s in (
        _surface(
            "bowl",
            "Bowl",
            "f(x, y) = x² + y²",
            "The simplest valley: the gradient points straight away from the bottom.",
            ((-3, 3), (-3, 3)),
            [(0.0, 0.0)],
            (2.5, -1.8),
            0.1,
            False,
            bowl,
            bowl_grad,
        ),
        _surface(
            "ravine",
            "Ravine",
            "f(x, y) = ½(x² + 25y²)",
            "A narrow valley (condition number 25): plain descent zig-zags across it.",
            ((-4, 4), (-2, 2)),
            [(0.0, 0.0)],
            (-3.5, 1.2),
            0.07,  # 1 − 25·lr = −0.75: every step overshoots across the valley, yet converges
            False,
            ravine,
            ravine_grad,
        ),
        _surface(
            "saddle",
            "Saddle",
            "f(x, y) = x² − y²",
            "No minimum: descent slides off along y, away from the flat saddle point.",
            ((-3, 3), (-3, 3)),
            [],
            (2.5, 0.05),
            0.05,
            False,
            saddle,
            saddle_grad,
        ),
        _surface(
            "wells",
            "Wells",
            "f(x, y) = 0.02(x² + y²) − Σ dₖ·exp(−|p − cₖ|² / 2wₖ²)",
            "Four pits of different depths: where you start decides where you land.",
            ((-5, 5), (-5, 5)),
            WELLS_MINIMA,
            (0.2, -0.5),
            0.5,
            False,
            wells,
            wells_grad,
        ),
        _surface(
            "rosenbrock",
            "Rosenbrock",
            "f(x, y) = (1 − x)² + 100(y − x²)²",
            "A curved banana valley: easy to find, slow to follow to its end at (1, 1).",
            ((-2, 2), (-1, 3)),
            [(1.0, 1.0)],
            (-1.5, 2.0),
            0.0018,
            True,
            rosenbrock,
            rosenbrock_grad,
        ),
        _surface(
            "himmelblau",
            "Himmelblau",
            "f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
            "Four minima of equal depth: the start picks one.",
            ((-5, 5), (-5, 5)),
            HIMMELBLAU_MINIMA,
            (-0.5, -0.5),
            0.01,
            True,
            himmelblau,
            himmelblau_grad,
        ),
        _surface(
            "rastrigin",
            "Rastrigin",
            "f(x, y) = 20 + Σ (t² − 10·cos 2πt)",
            "An egg-crate of local minima: descent stops in the nearest one.",
            ((-5.12, 5.12), (-5.12, 5.12)),
            [(0.0, 0.0)],
            (2.3, -1.7),
            0.002,
            False,
            rastrigin,
            rastrigin_grad,
        ),
        _surface(
            "ackley",
            "Ackley",
            "f(x, y) = −20·exp(−0.2·√(½(x² + y²))) − exp(½(cos 2πx + cos 2πy)) + 20 + e",
            "A funnel covered in ripples: small steps get caught in the ripples.",
            ((-5, 5), (-5, 5)),
            [(0.0, 0.0)],
            (1.7, -1.3),
            0.01,
            False,
            ackley,
            ackley_grad,
        ),
        _surface(
            "beale",
            "Beale",
            "f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            "Flat plateaus and steep walls: the slope changes by orders of magnitude.",
            ((-4.5, 4.5), (-4.5, 4.5)),
            [(3.0, 0.5)],
            (1.0, 1.4),
            0.01,
            True,
            beale,
            beale_grad,
        ),
        _surface(
            "booth",
            "Booth",
            "f(x, y) = (x + 2y − 7)² + (2x + y − 5)²",
            "A tilted bowl: its minimum (1, 3) is not where the axes meet.",
            ((-10, 10), (-10, 10)),
            [(1.0, 3.0)],
            (-7.0, -6.0),
            0.05,
            False,
            booth,
            booth_grad,
        ),
        _surface(
            "six_hump_camel",
            "Six-hump camel",
            "f(x, y) = (4 − 2.1x² + x⁴/3)x² + xy + (4y² − 4)y²",
            "Six minima, two of them global: a landscape with many wrong answers.",
            ((-3, 3), (-2, 2)),
            SIX_HUMP_MINIMA,
            (-1.0, -1.0),
            0.01,
            True,
            six_hump_camel,
            six_hump_camel_grad,
        ),
        _surface(
            "styblinski_tang",
            "Styblinski–Tang",
            "f(x, y) = ½ Σ (t⁴ − 16t² + 5t)",
            "Four minima, one deepest: the start decides which one you fall into.",
            ((-5, 5), (-5, 5)),
            [(ST, ST), (ST, ST_LOCAL), (ST_LOCAL, ST), (ST_LOCAL, ST_LOCAL)],
            (0.5, 0.3),
            0.01,
            True,
            styblinski_tang,
            styblinski_tang_grad,
        ),
    )
}


def grid(surface: Surface, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample the surface on n×n points of its domain; zs[j][i] = f(xs[i], ys[j])."""
    (x0, x1), (y0, y1) = surface.domain
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    zs = surface.value(xs[np.newaxis, :], ys[:, np.newaxis])
    return xs, ys, np.asarray(zs, dtype=float)
