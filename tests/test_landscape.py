"""The cost landscape: grid cells against the moved network's own cost, PCA directions,
the path's projection, filter normalisation, the bounded path and the parameter order."""

import numpy as np
import pytest

from app.mnist.landscape import (
    ParameterPath,
    design_order,
    filter_normalized_directions,
    landscape,
    pca_directions,
    plane_costs,
    project,
)
from app.mnist.network import Network
from tests.test_training import synthetic


def moved_cost(like, flat, x, onehot):
    """The direct way: a float64 network holding these parameters, and its cost."""
    net = Network(like.sizes, like.activation, like.cost_name, dtype=np.float64)
    net.flat[...] = flat
    return net.cost(x, onehot)


@pytest.mark.parametrize(
    ("sizes", "activation", "cost"),
    [((784, 16, 16, 10), "sigmoid", "quadratic"), ((784, 12, 10), "relu", "cross_entropy"),
     ((784, 8, 6, 5, 10), "sigmoid", "cross_entropy")],
)  # fmt: skip
def test_every_grid_cell_is_the_cost_of_the_moved_network(sizes, activation, cost):
    data = synthetic(10, 120)
    onehot = np.eye(10)[data.y_test]
    net = Network(sizes, activation, cost, seed=1)
    rng = np.random.default_rng(5)
    center = net.flat.astype(np.float64)
    d1, d2 = rng.standard_normal((2, center.size)) * 0.05
    a, b = np.linspace(-2, 2, 7), np.linspace(-1, 3, 5)
    grid = plane_costs(net, center, d1, d2, a, b, data.x_test, onehot)
    assert grid.shape == (5, 7)
    for j in range(5):
        for i in range(7):
            direct = moved_cost(net, center + a[i] * d1 + b[j] * d2, data.x_test, onehot)
            assert grid[j, i] == pytest.approx(direct, rel=2e-4, abs=1e-6)


def test_pca_directions_are_orthonormal_and_explain_a_made_up_walk():
    rng = np.random.default_rng(0)
    # a walk that moves mostly along e0, less along e1, a little in noise
    t = np.linspace(0, 1, 30)[:, None]
    e = np.eye(50)
    path = 10 * t * e[0] + 3 * np.sin(3 * t) * e[1] + 0.01 * rng.standard_normal((30, 50))
    d1, d2, explained = pca_directions(path)
    assert np.linalg.norm(d1) == pytest.approx(1) and np.linalg.norm(d2) == pytest.approx(1)
    assert abs(d1 @ d2) < 1e-10
    assert abs(d1 @ e[0]) > 0.95
    assert explained[0] > explained[1] > 0 and sum(explained) <= 1 + 1e-12
    # the shares are the principal components' variances (a second implementation: SVD)
    s = np.linalg.svd(path - path.mean(axis=0), compute_uv=False)
    np.testing.assert_allclose(explained, s[:2] ** 2 / np.sum(s**2), rtol=1e-9)
    # the path starts at negative coordinates and ends at (0, 0)
    coordinates = project(path, path[-1], d1, d2)
    assert coordinates[0, 0] < 0 and np.allclose(coordinates[-1], 0)


def test_a_path_that_has_not_moved_has_no_principal_directions():
    with pytest.raises(ValueError, match="too few"):
        pca_directions(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="hardly moved"):
        pca_directions(np.outer(np.arange(5.0), np.ones(10)))  # a straight line: one direction


def test_projection_reconstructs_points_in_the_plane():
    rng = np.random.default_rng(1)
    center, d1, d2 = rng.standard_normal((3, 40))  # not orthogonal: least squares still exact
    coords = rng.standard_normal((6, 2))
    points = center + coords[:, :1] * d1 + coords[:, 1:] * d2
    np.testing.assert_allclose(project(points, center, d1, d2), coords, atol=1e-10)


def test_landscape_pca_path_is_consistent_with_its_directions():
    data = synthetic(10, 200)
    onehot = np.eye(10)[data.y_test]
    net = Network(seed=2)
    rng = np.random.default_rng(3)
    path = [net.flat + k * 0.01 * rng.standard_normal(net.flat.size) for k in range(6)]
    center = path[-1] + 0.02
    result = landscape(net, center, path, data.x_test, onehot, n=9, method="pca", directions=True)
    assert len(result["a"]) == len(result["b"]) == 9 and len(result["cost"]) == 9
    assert result["path"][-1] == [0.0, 0.0] and len(result["path"]) == 7  # center added
    order = design_order(net.sizes)
    d1, d2 = np.empty(net.flat.size), np.empty(net.flat.size)
    d1[order], d2[order] = result["d1"], result["d2"]
    restored = np.empty(net.flat.size)
    restored[order] = result["center"]
    np.testing.assert_allclose(restored, center)
    for theta, (pa, pb) in zip([*path, center], result["path"], strict=True):
        assert pa == pytest.approx((theta - center) @ d1, abs=1e-9)
        assert pb == pytest.approx((theta - center) @ d2, abs=1e-9)
    # the whole path lies inside the grid
    assert max(abs(p[0]) for p in result["path"]) < result["a"][-1]
    # the centre cell is the network's own cost at center
    assert result["cost"][4][4] == pytest.approx(moved_cost(net, center, data.x_test, onehot),
                                                 rel=2e-4)  # fmt: skip
    assert 0 < sum(result["explained"]) <= 1


def test_random_directions_are_filter_normalised_with_zero_biases():
    net = Network(seed=3)
    d1, d2 = filter_normalized_directions(net.flat, net.sizes, seed=0)
    for direction in (d1, d2):
        probe = Network(net.sizes)
        probe.flat[...] = direction
        for w, dw in zip(net.weights, probe.weights, strict=True):
            np.testing.assert_allclose(np.linalg.norm(dw, axis=1), np.linalg.norm(w, axis=1),
                                       rtol=1e-5)  # fmt: skip
        assert all(np.all(b == 0) for b in probe.biases)
    assert not np.allclose(d1, d2)
    data = synthetic(10, 50)
    result = landscape(net, net.flat, [], data.x_test, np.eye(10)[data.y_test], n=5,
                       span=0.5, method="random")  # fmt: skip
    assert result["explained"] is None and result["a"] == [-0.5, -0.25, 0.0, 0.25, 0.5]
    assert result["path"] == [[0.0, 0.0]]


def test_design_order_lists_each_layer_weights_then_biases():
    net = Network((4, 3, 2), seed=0)
    ordered = net.flat[design_order(net.sizes)]
    expected = np.concatenate([net.weights[0].ravel(), net.biases[0], net.weights[1].ravel(),
                               net.biases[1]])  # fmt: skip
    np.testing.assert_array_equal(ordered, expected)


def test_the_path_keeps_its_first_and_latest_vectors_in_bounded_memory():
    path = ParameterPath(13_002)
    for step in range(1000):
        path.record(step, np.full(3, step))
    steps, vectors = path.vectors()
    assert len(steps) <= path.capacity and steps[0] == 0 and steps[-1] == 999
    assert steps == sorted(steps) and all(v[0] == s for s, v in zip(steps, vectors, strict=True))
    path.record(999, np.zeros(3))  # the same step again: ignored
    assert len(path) == len(steps)


def test_a_diverged_network_has_no_landscape_but_a_reason():
    net = Network(seed=0)
    center = net.flat.astype(np.float64)
    center[5] = np.nan
    data = synthetic(10, 20)
    with pytest.raises(ValueError, match="finite"):
        landscape(net, center, [], data.x_test, np.eye(10)[data.y_test], n=3, method="random")
