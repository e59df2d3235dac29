"""The compiled kernel computes what Network.backprop does, to rounding; it never allocates."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from app.mnist.kernel import BackpropKernel
from app.mnist.network import Network

#: float64 agrees to a few units in the last place; float32 to its rounding (sums reordered)
TOLERANCE = {np.float64: 1e-12, np.float32: 2e-6}


def _problem(sizes, activation, cost, dtype, samples=50):
    rng = np.random.default_rng(3)
    network = Network(sizes, activation, cost, seed=1, dtype=dtype)
    for b in network.biases:
        b[...] = rng.normal(size=b.shape)  # non-zero biases, so adding them is tested
    x = rng.random((samples, sizes[0])).astype(dtype)
    y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], samples)]
    return network, x, y, rng


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sizes", [(20, 7, 5, 4), (33, 16, 10), (9, 3)])
@pytest.mark.parametrize("block", [64, 3])
def test_kernel_gradient_and_cost_equal_backprop(activation, cost, dtype, sizes, block):
    """Odd and even layer widths; full and short batches (1-3 rows past the loops' groups of
    4); the batch in one pass, or in passes of 3 rows whose shares of the gradient add up."""
    network, x, y, rng = _problem(sizes, activation, cost, dtype)
    kernel = BackpropKernel(network, block=block)
    grad = np.full_like(network.flat, np.nan)  # every entry must be written
    for n in (9, 8, 7, 6, 5, 1):
        rows = rng.permutation(50)[:n]
        got_cost, finite = kernel.backprop(x, y, rows, grad)
        want_w, want_b, want_cost = network.backprop(x[rows], y[rows])
        want = np.concatenate([a.ravel() for a in [*want_w, *want_b]])
        assert finite and grad.dtype == np.dtype(dtype)
        assert got_cost == pytest.approx(want_cost, rel=TOLERANCE[dtype])
        scale = np.abs(want).max()
        np.testing.assert_allclose(grad, want, rtol=0, atol=TOLERANCE[dtype] * scale)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kernel_evaluation_equals_the_network_cost_and_accuracy(activation, cost, dtype):
    network, x, y, _ = _problem((20, 7, 10), activation, cost, dtype, samples=203)
    want_cost, output = network.cost_and_output(x, y)
    want_accuracy = np.mean(output.argmax(axis=1) == y.argmax(axis=1))
    for block in (64, 5):  # 203 rows: the last pass short
        got_cost, accuracy = BackpropKernel(network, block=block).evaluate(x, y)
        assert got_cost == pytest.approx(want_cost, rel=TOLERANCE[dtype])
        assert accuracy == want_accuracy


def test_the_gradient_matches_finite_differences():
    """An independent check of the mathematics, in float64."""
    network, x, y, rng = _problem((6, 4, 3), "sigmoid", "cross_entropy", np.float64)
    kernel, rows = BackpropKernel(network), np.array([4, 0, 7, 2, 9])
    grad = np.zeros_like(network.flat)
    kernel.backprop(x, y, rows, grad)
    for index in rng.choice(network.flat.size, 12, replace=False):
        h, saved = 1e-6, network.flat[index]
        network.flat[index] = saved + h
        up = network.cost(x[rows], y[rows])
        network.flat[index] = saved - h
        down = network.cost(x[rows], y[rows])
        network.flat[index] = saved
        assert grad[index] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("layer", [0, 1])
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_a_non_finite_parameter_is_reported_by_backprop_and_evaluation(bad, layer, activation):
    """Whatever becomes of it on the way (a sigmoid floors a NaN z away), it is reported."""
    network, x, y, _ = _problem((8, 4, 3), activation, "quadratic", np.float32)
    network.weights[layer][0, 0] = bad
    kernel = BackpropKernel(network)
    cost, finite = kernel.backprop(x, y, np.arange(4), np.zeros_like(network.flat))
    assert not finite
    assert not np.isfinite(kernel.evaluate(x, y)[0])


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_a_non_finite_gradient_is_reported(bad):
    network, x, y, _ = _problem((8, 4, 3), "relu", "quadratic", np.float32)
    network.weights[1][0, 0] = bad
    grad = np.zeros_like(network.flat)
    cost, finite = BackpropKernel(network).backprop(x, y, np.arange(4), grad)
    assert not finite


def test_a_step_allocates_nothing():
    """Numba counts every allocation; a step makes only the one per array argument that
    passing it from Python costs (9), for batch 1000 as for batch 4 — no buffers."""
    script = textwrap.dedent(
        """
        import numpy as np
        from numba.core.runtime import rtsys
        from app.mnist.kernel import BackpropKernel
        from app.mnist.network import Network
        net = Network((784, 16, 16, 10))
        kernel, grad = BackpropKernel(net), np.zeros_like(net.flat)
        x = np.random.default_rng(0).random((3000, 784), dtype=np.float32)
        y = np.eye(10, dtype=np.float32)[np.arange(3000) % 10]
        rows = np.random.default_rng(1).permutation(3000)
        kernel.backprop(x, y, rows[:1000], grad)
        for n in (1000, 4):
            before = rtsys.get_allocation_stats().alloc
            kernel.backprop(x, y, rows[:n], grad)
            print(rtsys.get_allocation_stats().alloc - before)
        """
    )
    env = {**os.environ, "NUMBA_NRT_STATS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["9", "9"]


def test_warm_up_compiles_in_the_background_then_calls_back():
    from app.mnist.kernel import warm_up

    done = []
    thread = warm_up(then=lambda: done.append(True))
    thread.join(timeout=120)
    assert done == [True] and not thread.is_alive()


def test_the_vectorised_sigmoid_is_within_a_few_float32_ulp_of_numpys():
    """Over every z that matters, both tails included (σ rounds to 0 and to 1 there)."""
    from numba import njit

    from app.mnist.fast import loops
    from app.mnist.network import sigmoid

    @njit
    def run(z, floor, scratch):
        loops._sigmoid(z, floor, scratch)

    z = np.concatenate([np.linspace(-120, 120, 200_001), [-1e30, -87.5, 87.5, 1e30]])
    z = z.astype(np.float32)
    got = z.copy()
    run(got, np.float32(-87.0), np.empty_like(z))
    want = sigmoid(z)
    ulp = np.spacing(want)
    assert np.all(np.abs(got - want) <= 4 * ulp)  # measured: median 0, 99.9th percentile 2
    assert got[-1] == got[-2] == 1.0 and 0 < got[0] < 1e-37  # the tails


def test_after_warm_up_a_training_on_the_stored_digits_compiles_nothing(mnist):
    """The data layer hands out read-only arrays, a type Numba compiles apart: the warm-up
    must cover it, or the first training would stall for seconds on a fresh install."""
    from app.mnist.fast import loops
    from app.mnist.kernel import warm_up
    from app.mnist.training import TrainConfig, Trainer

    warm_up(background=False)
    compiled = (len(loops.backprop.signatures), len(loops.evaluate.signatures))
    trainer = Trainer(TrainConfig(epochs=1, batch_size=100), mnist)
    trainer.run(3)
    trainer.evaluate()
    assert not mnist.x_train.flags.writeable  # the case this guards
    assert (len(loops.backprop.signatures), len(loops.evaluate.signatures)) == compiled
