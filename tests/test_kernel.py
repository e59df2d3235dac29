"""The training kernel computes exactly what Network.backprop does: same bits, no allocations."""

import numpy as np
import pytest

from app.mnist.kernel import BackpropKernel
from app.mnist.network import Network


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_gradients_and_cost_are_bit_identical_to_backprop(activation, cost, dtype):
    rng = np.random.default_rng(3)
    network = Network((20, 7, 5, 4), activation, cost, seed=1, dtype=dtype)
    network.biases[0][...] = rng.normal(size=7)  # non-zero biases, so adding them is tested
    x = rng.random((50, 20)).astype(dtype)
    y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 50)]
    kernel = BackpropKernel(network, batch_size=8)
    _, nabla_w, nabla_b = network.gradient_buffers()
    for rows in (rng.permutation(50)[:8], rng.permutation(50)[:3], np.arange(8)):  # short too
        cost_k = kernel.backprop(x, y, rows, nabla_w, nabla_b)
        want_w, want_b, want_cost = network.backprop(x[rows], y[rows])
        assert cost_k == want_cost
        for got, want in zip([*nabla_w, *nabla_b], [*want_w, *want_b], strict=True):
            assert got.dtype == want.dtype == np.dtype(dtype)
            assert np.array_equal(got, want)


def test_a_short_batch_reuses_the_buffers():
    network = Network((6, 3, 2))
    kernel = BackpropKernel(network, batch_size=4)
    x = np.ones((10, 6), np.float32)
    y = np.eye(2, dtype=np.float32)[np.arange(10) % 2]
    _, nabla_w, nabla_b = network.gradient_buffers()
    for rows in ([0, 1, 2, 3], [4, 5], [6, 7, 8, 9], [8, 9]):
        kernel.backprop(x, y, np.array(rows), nabla_w, nabla_b)
    assert sorted(kernel._views) == [2, 4]  # one set of views per batch size, made once


def test_a_step_allocates_no_batch_or_layer_arrays():
    """Only the cost's temporaries remain (its float32 squares and NumPy's float64
    summation buffer, ~104 KB at batch 1000); the gathered batch alone was 3 MB."""
    import tracemalloc

    network = Network((784, 16, 16, 10))
    kernel = BackpropKernel(network, batch_size=1000)
    x = np.random.default_rng(0).random((3000, 784), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[np.arange(3000) % 10]
    _, nabla_w, nabla_b = network.gradient_buffers()
    rows = np.random.default_rng(1).permutation(3000)[:1000]
    kernel.backprop(x, y, rows, nabla_w, nabla_b)
    tracemalloc.start()
    kernel.backprop(x, y, rows, nabla_w, nabla_b)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 128_000  # the batch is 3,136,000 bytes; the old step made ~10 such arrays
