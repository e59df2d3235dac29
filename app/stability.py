"""How large a learning rate stays stable, from the curvature (the Hessian) at a point.

Near a minimum f is close to its quadratic ½·dᵀHd, and each eigen-direction of H with
curvature λ is a separate one-dimensional problem.  Plain gradient descent multiplies
the error along it by (1 − lr·λ) per step, so it shrinks while lr < 2/λ; the stiffest
direction, λ_max, sets the limit.  Heavy-ball momentum β (torch's SGD with momentum)
stays stable while lr < (2 + 2β)/λ_max (Goh, "Why Momentum Really Works", 2017);
Nesterov's form, as torch writes it, while lr < (2 + 2β)/((1 + 2β)·λ_max) — both from
the eigenvalues of the 2×2 iteration matrix (Jury's test), checked in the tests
against the spectral radius computed numerically.  The adaptive optimizers (Adagrad,
RMSprop, Adam) rescale each step by the gradients they have seen: no fixed limit.
"""

from __future__ import annotations

import math

__all__ = ["lambda_max", "lr_limit"]

Hessian = tuple[tuple[float, float], tuple[float, float]]


def lambda_max(hessian: Hessian) -> float:
    """The larger eigenvalue of the symmetric 2×2 matrix ((a, b), (b, c)), in closed form."""
    (a, b), (_, c) = hessian
    return 0.5 * (a + c) + math.hypot(0.5 * (a - c), b)


def lr_limit(hessian: Hessian, optimizer: str = "gd", momentum: float = 0.9) -> float | None:
    """The largest stable learning rate near a point with this Hessian; None if there is none.

    None for the adaptive optimizers and annealing (it takes no gradient steps: its lr is
    unused), and where no direction curves upwards (λ_max ≤ 0: a maximum or a flat spot,
    where no learning rate makes the quadratic model converge). Langevin's drift is plain
    gradient descent (the noise is added to it), so its limit is plain GD's.
    """
    top = lambda_max(hessian)
    if optimizer in ("adagrad", "rmsprop", "adam", "annealing") or not top > 0:
        return None
    if optimizer in ("gd", "langevin"):
        return 2.0 / top
    if optimizer == "momentum":
        return (2.0 + 2.0 * momentum) / top
    if optimizer == "nesterov":
        return (2.0 + 2.0 * momentum) / ((1.0 + 2.0 * momentum) * top)
    raise ValueError(f"no optimizer called {optimizer!r}")
