"""The test-surface formulas: each value written right beside its exact gradient and Hessian.

Every function takes x and y as floats or float arrays and broadcasts like
``scipy.optimize.rosen``: one definition serves a single point and a whole contour
grid.  Python floats stay Python floats where the formula allows it, which keeps a
descent run's hot loop fast and lets an overflow raise instead of turning into inf.
Gradients are analytic, never finite differences, and finite everywhere; beside
each gradient its Hessian, as (fxx, fxy, fyy) since fyx = fxy.  Domains
and optima follow the usual test-function collections (sfu.ca/~ssurjano, scipy's
global-optimization benchmarks); app.surfaces registers them with their demos.
"""

from __future__ import annotations

import numpy as np

Array = np.ndarray | float
Hessian = tuple[Array, Array, Array]  # (∂²f/∂x², ∂²f/∂x∂y, ∂²f/∂y²)

# --- quadratics: the textbook cases --------------------------------------------------


def bowl(x: Array, y: Array) -> Array:
    """Bowl, x² + y². Global minimum f(0, 0) = 0; curvature 2 in every direction."""
    return x**2 + y**2


def bowl_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return 2 * x, 2 * y


def bowl_hess(x: Array, y: Array) -> Hessian:
    return 2.0, 0.0, 2.0


RAVINE_A, RAVINE_B = 1.0, 25.0  # Hessian diag(1, 25): condition number 25


def ravine(x: Array, y: Array) -> Array:
    """Ravine, ½(x² + 25y²): curvature 1 along x, 25 across. Global minimum f(0, 0) = 0."""
    return 0.5 * (RAVINE_A * x**2 + RAVINE_B * y**2)


def ravine_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return RAVINE_A * x, RAVINE_B * y


def ravine_hess(x: Array, y: Array) -> Hessian:
    return RAVINE_A, 0.0, RAVINE_B


def saddle(x: Array, y: Array) -> Array:
    """Saddle, x² − y²: a stationary point at the origin, no minimum, unbounded below."""
    return x**2 - y**2


def saddle_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return 2 * x, -2 * y


def saddle_hess(x: Array, y: Array) -> Hessian:
    return 2.0, 0.0, -2.0


def booth(x: Array, y: Array) -> Array:
    """Booth, (x + 2y − 7)² + (2x + y − 5)². Domain [−10, 10]²; minimum f(1, 3) = 0."""
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def booth_grad(x: Array, y: Array) -> tuple[Array, Array]:
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return 2 * a + 4 * b, 4 * a + 2 * b


def booth_hess(x: Array, y: Array) -> Hessian:
    return 10.0, 8.0, 10.0  # 2·1 + 4·2, 2·2 + 4·1, 4·2 + 2·1: f is quadratic


# --- polynomial valleys and pits --------------------------------------------------------


def rosenbrock(x: Array, y: Array) -> Array:
    """Rosenbrock, (1 − x)² + 100(y − x²)². Domain [−2, 2] × [−1, 3]; minimum f(1, 1) = 0."""
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return -2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)


def rosenbrock_hess(x: Array, y: Array) -> Hessian:
    return 2 - 400 * y + 1200 * x**2, -400 * x, 200.0


def himmelblau(x: Array, y: Array) -> Array:
    """Himmelblau, (x² + y − 11)² + (x + y² − 7)². Domain [−5, 5]².

    Four minima, all f = 0: (3, 2), (−2.805118, 3.131312), (−3.779310, −3.283186),
    (3.584428, −1.848126).
    """
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def himmelblau_grad(x: Array, y: Array) -> tuple[Array, Array]:
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * x * a + 2 * b, 2 * a + 4 * y * b


def himmelblau_hess(x: Array, y: Array) -> Hessian:
    a, b = x**2 + y - 11, x + y**2 - 7
    return 4 * a + 8 * x**2 + 2, 4 * x + 4 * y, 2 + 4 * b + 8 * y**2


def beale(x: Array, y: Array) -> Array:
    """Beale, (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)².

    Domain [−4.5, 4.5]²; minimum f(3, 0.5) = 0.
    """
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def beale_grad(x: Array, y: Array) -> tuple[Array, Array]:
    t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    gx = 2 * t1 * (y - 1) + 2 * t2 * (y**2 - 1) + 2 * t3 * (y**3 - 1)
    gy = 2 * t1 * x + 4 * t2 * x * y + 6 * t3 * x * y**2
    return gx, gy


def beale_hess(x: Array, y: Array) -> Hessian:
    t1, t2, t3 = 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3
    # each term 2·tₖ·∂tₖ: the product rule gives 2·∂tₖ·∂tₖ + 2·tₖ·∂²tₖ
    hxx = 2 * (y - 1) ** 2 + 2 * (y**2 - 1) ** 2 + 2 * (y**3 - 1) ** 2
    hxy = (
        2 * x * (y - 1) + 2 * t1
        + 4 * x * y * (y**2 - 1) + 4 * y * t2
        + 6 * x * y**2 * (y**3 - 1) + 6 * y**2 * t3
    )  # fmt: skip
    hyy = 2 * x**2 + 8 * x**2 * y**2 + 4 * x * t2 + 18 * x**2 * y**4 + 12 * x * y * t3
    return hxx, hxy, hyy


def six_hump_camel(x: Array, y: Array) -> Array:
    """Six-hump camel, (4 − 2.1x² + x⁴/3)x² + xy + (4y² − 4)y². Domain [−3, 3] × [−2, 2].

    Six minima; the two global ones f(±0.0898, ∓0.7126) = −1.0316.
    """
    return (4 - 2.1 * x**2 + x**4 / 3) * x**2 + x * y + (-4 + 4 * y**2) * y**2


def six_hump_camel_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3


def six_hump_camel_hess(x: Array, y: Array) -> Hessian:
    return 8 - 25.2 * x**2 + 10 * x**4, 1.0, -8 + 48 * y**2


def styblinski_tang(x: Array, y: Array) -> Array:
    """Styblinski–Tang, ½ Σ (t⁴ − 16t² + 5t) over t = x, y. Domain [−5, 5]².

    Each coordinate has two minima, the roots −2.903534 and 2.746803 of 4t³ − 32t + 5:
    four minima, the global one f(−2.903534, −2.903534) = −78.33234.
    """
    return 0.5 * ((x**4 - 16 * x**2 + 5 * x) + (y**4 - 16 * y**2 + 5 * y))


def styblinski_tang_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return 0.5 * (4 * x**3 - 32 * x + 5), 0.5 * (4 * y**3 - 32 * y + 5)


def styblinski_tang_hess(x: Array, y: Array) -> Hessian:
    return 6 * x**2 - 16, 0.0, 6 * y**2 - 16


# --- ripples: a minimum at every lattice point ----------------------------------------


def rastrigin(x: Array, y: Array) -> Array:
    """Rastrigin, 20 + Σ (t² − 10 cos 2πt) over t = x, y. Domain [−5.12, 5.12]².

    Global minimum f(0, 0) = 0, and a local minimum near every integer point.
    """
    return 20 + (x**2 - 10 * np.cos(2 * np.pi * x)) + (y**2 - 10 * np.cos(2 * np.pi * y))


def rastrigin_grad(x: Array, y: Array) -> tuple[Array, Array]:
    return (
        2 * x + 20 * np.pi * np.sin(2 * np.pi * x),
        2 * y + 20 * np.pi * np.sin(2 * np.pi * y),
    )


def rastrigin_hess(x: Array, y: Array) -> Hessian:
    return (
        2 + 40 * np.pi**2 * np.cos(2 * np.pi * x),
        0.0,
        2 + 40 * np.pi**2 * np.cos(2 * np.pi * y),
    )


ACKLEY_A, ACKLEY_B, ACKLEY_C = 20.0, 0.2, 2 * np.pi


def ackley(x: Array, y: Array) -> Array:
    """Ackley (a = 20, b = 0.2, c = 2π), in two dimensions:

    −a·exp(−b·√(½(x² + y²))) − exp(½(cos cx + cos cy)) + a + e.
    Usual domain [−32.768, 32.768]², plotted here on [−5, 5]²; global minimum
    f(0, 0) = 0 (a cone tip, not smooth there), a local minimum near every integer point.
    Summed as a(1 − exp(…)) + (e − exp(…)) so that f(0, 0) is exactly 0.
    """
    r = np.sqrt(0.5 * (x**2 + y**2))
    mean_cos = 0.5 * (np.cos(ACKLEY_C * x) + np.cos(ACKLEY_C * y))
    return ACKLEY_A * (1 - np.exp(-ACKLEY_B * r)) + (np.e - np.exp(mean_cos))


def ackley_grad(x: Array, y: Array) -> tuple[Array, Array]:
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    r = np.sqrt(0.5 * (x**2 + y**2))
    # ∂/∂x of −a·exp(−b·r) is a·b·exp(−b·r)·x / (2r); at r = 0 the subgradient 0.
    safe_r = np.where(r > 0, r, 1.0)
    radial = np.where(r > 0, ACKLEY_A * ACKLEY_B * np.exp(-ACKLEY_B * r) / (2 * safe_r), 0.0)
    wave = 0.5 * ACKLEY_C * np.exp(0.5 * (np.cos(ACKLEY_C * x) + np.cos(ACKLEY_C * y)))
    return radial * x + wave * np.sin(ACKLEY_C * x), radial * y + wave * np.sin(ACKLEY_C * y)


def ackley_hess(x: Array, y: Array) -> Hessian:
    """Ackley's Hessian; NaN at the cone tip (0, 0), where f has no second derivative."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    r = np.sqrt(0.5 * (x**2 + y**2))
    safe_r = np.where(r > 0, r, 1.0)
    decay = ACKLEY_A * ACKLEY_B * np.exp(-ACKLEY_B * safe_r)
    # the gradient's radial part is ρ(r)·(x, y), ρ = a·b·e^(−br)/(2r), and ∂r/∂x = x/(2r)
    rho = np.where(r > 0, decay / (2 * safe_r), np.nan)
    rho_r = -decay * (ACKLEY_B * safe_r + 1) / (2 * safe_r**2)
    d = rho_r / (2 * safe_r)  # ∂ρ/∂x = d·x
    c = ACKLEY_C
    wave = 0.5 * c * np.exp(0.5 * (np.cos(c * x) + np.cos(c * y)))
    sx, sy = np.sin(c * x), np.sin(c * y)
    hxx = rho + d * x * x - 0.5 * c * wave * sx * sx + c * wave * np.cos(c * x)
    hxy = d * x * y - 0.5 * c * wave * sx * sy
    hyy = rho + d * y * y - 0.5 * c * wave * sy * sy + c * wave * np.cos(c * y)
    return hxx, hxy, hyy


# --- wells: made for gdviz -------------------------------------------------------------

WELLS_BOWL = 0.02  # a gentle bowl keeps every path on the plot
WELLS_PITS = (  # Gaussian pits: centre x, centre y, depth, width
    (2.0, 2.0, 3.0, 1.0),
    (-2.5, 1.5, 2.0, 1.0),
    (-1.5, -2.5, 2.5, 0.9),
    (2.5, -2.0, 1.5, 0.8),
)


def wells(x: Array, y: Array) -> Array:
    """Wells, 0.02(x² + y²) − Σₖ dₖ·exp(−|p − cₖ|² / 2wₖ²), the pits in WELLS_PITS.

    Domain [−5, 5]²; one minimum in each pit, a little off its centre (the bowl and
    the other pits pull on it), the deepest near (2, 2) with f ≈ −2.842.
    """
    total = WELLS_BOWL * (x**2 + y**2)
    for cx, cy, depth, width in WELLS_PITS:
        total = total - depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2))
    return total


def wells_grad(x: Array, y: Array) -> tuple[Array, Array]:
    gx, gy = 2 * WELLS_BOWL * x, 2 * WELLS_BOWL * y
    for cx, cy, depth, width in WELLS_PITS:
        pit = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2)) / width**2
        gx = gx + pit * (x - cx)
        gy = gy + pit * (y - cy)
    return gx, gy


def wells_hess(x: Array, y: Array) -> Hessian:
    hxx = hyy = 2 * WELLS_BOWL
    hxy = 0.0
    for cx, cy, depth, width in WELLS_PITS:
        pit = depth * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * width**2)) / width**2
        dx, dy = (x - cx) / width, (y - cy) / width
        hxx = hxx + pit * (1 - dx * dx)
        hxy = hxy - pit * dx * dy
        hyy = hyy + pit * (1 - dy * dy)
    return hxx, hxy, hyy
