"""Surface Hessians: against finite differences of the exact gradient, against torch's
autograd through the reference formulas, against scipy's rosen_hess, and their shapes."""

import math

import numpy as np
import pytest
import scipy.optimize
import torch
from test_surfaces import random_points, reference

from app.surfaces import SURFACES

NAMES = list(SURFACES)


def as_matrix(hessian):
    """((fxx, fxy), (fxy, fyy)) of arrays → an array of shape (2, 2, …)."""
    return np.array([[np.asarray(v, dtype=float) for v in row] for row in hessian])


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_finite_differences_of_the_gradient(name):
    """Five-point central differences (error O(h⁴)) of the analytic gradient, vectorised."""
    surface = SURFACES[name]
    x, y = random_points(surface, count=400, seed=11)
    h = 1e-4

    def difference(dx, dy):
        g = [np.array(surface.gradient(x + k * dx, y + k * dy)) for k in (2, 1, -1, -2)]
        return (-g[0] + 8 * g[1] - 8 * g[2] + g[3]) / (12 * h)

    by_x, by_y = difference(h, 0), difference(0, h)  # rows: (∂gx, ∂gy) along x, along y
    estimate = np.array([[by_x[0], by_y[0]], [by_x[1], by_y[1]]])
    exact = as_matrix(surface.hessian(x, y))
    scale = np.maximum(1.0, np.abs(np.array(surface.gradient(x, y))).max(axis=0))
    tolerance = 1e-6 * np.abs(estimate) + 1e-9 * scale
    worst = np.unravel_index(np.argmax(np.abs(exact - estimate) - tolerance), exact.shape)
    assert np.all(np.abs(exact - estimate) <= tolerance), (worst, x[worst[2]], y[worst[2]])


@pytest.mark.parametrize("name", NAMES)
def test_hessian_matches_torch_autograd(name):
    """A second implementation: torch's Hessian of the reference formula, point by point."""
    surface = SURFACES[name]
    x, y = random_points(surface, count=25, seed=12)
    for px, py in zip(x, y, strict=True):
        point = torch.tensor([px, py], dtype=torch.float64)
        expected = torch.autograd.functional.hessian(
            lambda p: reference(name, p[0], p[1], lib=torch), point
        ).numpy()
        np.testing.assert_allclose(
            as_matrix(surface.hessian(px, py)), expected, rtol=1e-9, atol=1e-8
        )


def test_rosenbrock_hessian_matches_scipy():
    x, y = random_points(SURFACES["rosenbrock"], count=20, seed=13)
    for point in zip(x, y, strict=True):
        expected = scipy.optimize.rosen_hess(np.array(point))
        np.testing.assert_allclose(as_matrix(SURFACES["rosenbrock"].hessian(*point)), expected)


def test_hand_worked_hessians():
    """Values worked out on paper."""
    assert SURFACES["bowl"].hessian(0.3, -2.0) == ((2.0, 0.0), (0.0, 2.0))
    assert SURFACES["booth"].hessian(1.0, 3.0) == ((10.0, 8.0), (8.0, 10.0))
    # Himmelblau at (3, 2): a = b = 0, so fxx = 8·9 + 2 = 74, fxy = 4·3 + 4·2 = 20, fyy = 2 + 32
    assert SURFACES["himmelblau"].hessian(3.0, 2.0) == ((74.0, 20.0), (20.0, 34.0))
    # Rastrigin at the origin: 2 + 40π² on the diagonal
    ((hxx, hxy), (_, hyy)) = SURFACES["rastrigin"].hessian(0.0, 0.0)
    assert (hxx, hxy, hyy) == pytest.approx((2 + 40 * math.pi**2, 0.0, 2 + 40 * math.pi**2))


@pytest.mark.parametrize("name", NAMES)
def test_hessian_is_vectorised_symmetric_and_positive_at_the_minima(name):
    surface = SURFACES[name]
    xs = np.linspace(*surface.domain[0], 7)[np.newaxis, :]
    ys = np.linspace(*surface.domain[1], 5)[:, np.newaxis]
    ((hxx, hxy), (hyx, hyy)) = surface.hessian(xs, ys)
    assert all(np.shape(h) == (5, 7) for h in (hxx, hxy, hyx, hyy))  # constants too
    assert hxy is hyx
    for j in range(5):
        for i in range(7):
            point = as_matrix(surface.hessian(float(xs[0, i]), float(ys[j, 0])))
            np.testing.assert_allclose(as_matrix(((hxx, hxy), (hyx, hyy)))[:, :, j, i], point)
    for minimum in surface.minima:
        if name == "ackley":
            continue  # a cone tip: no second derivative (next test)
        assert np.all(np.linalg.eigvalsh(as_matrix(surface.hessian(*minimum))) > 0), minimum


def test_ackley_tip_has_no_hessian():
    """The cone tip has no second derivative: NaN there (the API sends null), finite beside."""
    assert np.all(np.isnan(as_matrix(SURFACES["ackley"].hessian(0.0, 0.0))[[0, 1], [0, 1]]))
    assert np.all(np.isfinite(as_matrix(SURFACES["ackley"].hessian(1e-3, 2e-3))))


@pytest.mark.parametrize("name", NAMES)
def test_eval_route_sends_the_hessian(client, name):
    surface = SURFACES[name]
    for x, y in [(0.3, -0.7), (1.25, 0.5), (1e6, -1e6)]:
        body = client.get(f"/api/surfaces/{name}/eval", params={"x": x, "y": y}).json()
        np.testing.assert_allclose(body["hessian"], as_matrix(surface.hessian(x, y)), rtol=1e-15)
