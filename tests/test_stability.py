"""The stability limit: 2/λ_max and (2 + 2β)/λ_max against a hand computation, and every
limit against the spectral radius of the optimizer's own iteration, found numerically."""

import math

import numpy as np
import pytest

from app.descent import DescentRun
from app.formula import formula_surface
from app.stability import lambda_max, lr_limit
from app.surfaces import SURFACES

QUADRATIC = ((2.0, -1.0), (-1.0, 6.0))  # the Hessian of x² + 3y² − xy


def test_the_design_example_by_hand():
    """x² + 3y² − xy: H = [[2, −1], [−1, 6]]; λ = 4 ± √(4 + 1), so λ_max = 4 + √5."""
    assert lambda_max(QUADRATIC) == pytest.approx(4 + math.sqrt(5), rel=1e-15)
    assert lr_limit(QUADRATIC) == pytest.approx(2 / (4 + math.sqrt(5)), rel=1e-15)
    assert round(lr_limit(QUADRATIC), 3) == 0.321  # 0.32131…
    assert lr_limit(QUADRATIC, "momentum", 0.9) == pytest.approx(3.8 / (4 + math.sqrt(5)))
    assert lr_limit(QUADRATIC, "momentum", 0.5) == pytest.approx(3 / (4 + math.sqrt(5)))


def test_lambda_max_matches_numpy():
    rng = np.random.default_rng(5)
    for a, b, c in rng.normal(0, 10, (200, 3)):
        assert lambda_max(((a, b), (b, c))) == pytest.approx(
            np.linalg.eigvalsh([[a, b], [b, c]])[-1]
        )


def radius(optimizer, lr, curvature, beta):
    """The spectral radius of one optimizer step on f = ½·λ·x², state (buffer, x)."""
    a = lr * curvature
    if optimizer == "gd":
        return abs(1 - a)
    if optimizer == "momentum":  # b' = βb + λx; x' = x − lr·b'
        matrix = [[beta, curvature], [-lr * beta, 1 - a]]
    else:  # nesterov: b' = βb + λx; x' = x − lr·(λx + βb')
        matrix = [[beta, curvature], [-lr * beta * beta, 1 - a * (1 + beta)]]
    return max(abs(np.linalg.eigvals(np.array(matrix))))


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "nesterov"])
@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_the_limit_is_where_the_iteration_stops_contracting(optimizer, beta):
    hessian = ((3.0, 1.0), (1.0, 0.5))
    limit = lr_limit(hessian, optimizer, beta)
    top = lambda_max(hessian)
    assert radius(optimizer, 0.999 * limit, top, beta) < 1
    assert radius(optimizer, 1.001 * limit, top, beta) > 1


def test_no_limit_without_upward_curvature_or_for_adaptive_steps():
    assert lr_limit(((-2.0, 0.0), (0.0, -1.0))) is None
    assert lr_limit(((0.0, 0.0), (0.0, 0.0))) is None
    assert lr_limit(((2.0, 0.0), (0.0, -2.0))) == 1.0  # a saddle: x still curves upwards
    for name in ("adagrad", "rmsprop", "adam"):
        assert lr_limit(QUADRATIC, name) is None
    with pytest.raises(ValueError):
        lr_limit(QUADRATIC, "sgd")


def test_langevin_has_plain_gds_limit_and_annealing_none():
    """Langevin adds noise to a plain GD step (its mean moves as GD does); annealing takes no
    gradient step at all, so no lr limits it."""
    assert lr_limit(QUADRATIC, "langevin") == lr_limit(QUADRATIC, "gd")
    assert lr_limit(QUADRATIC, "annealing") is None


@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
def test_real_runs_converge_below_the_limit_and_diverge_above_it(optimizer):
    """The hint is what a run on the server does: 2 % under the limit it converges, 2 % over
    it it diverges (the typed formula x² + 3y² − xy, and the ravine)."""
    for surface in (formula_surface("x^2 + 3*y^2 - x*y"), SURFACES["ravine"]):
        hessian = surface.hessian(0.0, 0.0)
        limit = lr_limit(hessian, optimizer, 0.9)
        below = DescentRun(surface, (1.0, 1.0), optimizer, 0.98 * limit, max_steps=100_000)
        above = DescentRun(surface, (1.0, 1.0), optimizer, 1.02 * limit, max_steps=100_000)
        list(below), list(above)
        assert (below.state, above.state) == ("converged", "diverged"), surface.name
