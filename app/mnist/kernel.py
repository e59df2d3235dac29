"""The NumPy engine: one mini-batch's backprop into buffers made once, vectorised over the batch.

``Network.backprop`` is the readable version: it checks its inputs, builds lists
and allocates every intermediate array afresh. ``NumpyKernel`` does the same
mathematics in ~40 NumPy calls a step, each writing into a buffer made the first
time a batch of that many rows comes (``out=`` everywhere, views cached), so a
step allocates nothing; at batch 10 those calls' overheads are most of a step,
so every call saved counts: constants are 0-d arrays (a Python float is converted
on every call) and the products ``np.dot`` (less overhead than ``np.matmul`` on
these small shapes). It agrees with ``Network.backprop`` to rounding
(tests/test_kernel.py): the sigmoid is computed as ½ + ½·tanh(z/2), which never
overflows, and the quadratic cost is a float32 dot product.

This engine needs nothing but NumPy; the compiled one (app/mnist/fast/) is an
optional accelerator that app.mnist.engine picks when Numba is installed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.mnist.network import Network

__all__ = ["EVAL_BLOCK", "NumpyKernel"]

#: rows per pass of an evaluation: its buffers stay small, its calls few per row
EVAL_BLOCK = 1000


@dataclass
class _Buffers:
    """Every array a pass over ``n`` rows writes (views of the first n rows of the full ones)."""

    x: np.ndarray  # the batch's inputs, gathered (n, n_in)
    y: np.ndarray  # its one-hot labels, gathered (n, n_out)
    ones: np.ndarray  # (n,) ones: a bias gradient is ones @ delta
    acts: list[np.ndarray]  # each layer's z, turned in place into its activation (n, n_l)
    deltas: list[np.ndarray]  # ∂C/∂z per layer (n, n_l)
    primes: list[np.ndarray]  # f'(z) per hidden layer; the output error at the end (n, n_l)
    tiles: list[np.ndarray]  # each layer's biases repeated on every row (n, n_l)
    error: np.ndarray  # the output error, raveled (a view of primes[-1])
    top: np.ndarray  # (n, 1): softmax's row maxima, then its row sums
    scale: np.ndarray  # 0-d: 1/n (cross-entropy) or 2/n (quadratic), the deltas' factor


class NumpyKernel:
    """Backprop and evaluation for one network, with NumPy, without allocating per step."""

    def __init__(self, network: Network, block: int = EVAL_BLOCK) -> None:
        self.network = network
        self.block = block  # rows per evaluation pass
        self._relu = network.activation == "relu"
        self._step = network.activation == "step"
        self._softmax = network.cost_name == "cross_entropy"
        self._ones_row = np.ones((1, network.sizes[-1]), network.dtype)
        # 0-d arrays, not Python floats: NumPy converts a Python scalar on every call (~0.3 µs)
        self._one = np.array(1.0, network.dtype)
        self._half = np.array(0.5, network.dtype)
        self._capacity = 0
        self._full: _Buffers | None = None
        self._views: dict[int, _Buffers] = {}
        self._grad: np.ndarray | None = None
        self._grad_views: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])

    # -- buffers ---------------------------------------------------------------

    def _buffers(self, n: int) -> _Buffers:
        """The first ``n`` rows of every buffer, grown (once) if n exceeds what they hold."""
        views = self._views.get(n)
        if views is not None:
            return views
        if n > self._capacity:
            self._full = self._allocate(max(n, 2 * self._capacity))
            self._capacity = len(self._full.x)
            self._views.clear()
        full = self._full
        assert full is not None

        def cut(arrays: list[np.ndarray]) -> list[np.ndarray]:
            return [a[:n] for a in arrays]

        primes = cut(full.primes)
        views = _Buffers(
            full.x[:n],
            full.y[:n],
            full.ones[:n],
            cut(full.acts),
            cut(full.deltas),
            primes,
            cut(full.tiles),
            primes[-1].reshape(-1),  # contiguous: the first n rows of a C-ordered array
            full.top[:n],
            np.array((1.0 if self._softmax else 2.0) / n, self.network.dtype),
        )
        self._views[n] = views
        return views

    def _allocate(self, rows: int) -> _Buffers:
        dtype, sizes = self.network.dtype, self.network.sizes

        def layers() -> list[np.ndarray]:
            return [np.zeros((rows, n), dtype) for n in sizes[1:]]

        return _Buffers(
            np.zeros((rows, sizes[0]), dtype),
            np.zeros((rows, sizes[-1]), dtype),
            np.ones(rows, dtype),
            layers(),
            layers(),
            layers(),
            layers(),
            np.zeros(0, dtype),  # cut() makes the raveled view
            np.zeros((rows, 1), dtype),
            np.zeros((), dtype),
        )

    def _gradient_views(self, grad: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """``grad`` as per-layer weight and bias arrays (laid out as ``network.flat``), cached."""
        if grad is not self._grad:
            sizes = self.network.sizes
            pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
            nabla_w, start = [], 0
            for n_in, n_out in pairs:
                nabla_w.append(grad[start : start + n_in * n_out].reshape(n_out, n_in))
                start += n_in * n_out
            nabla_b = []
            for _, n_out in pairs:
                nabla_b.append(grad[start : start + n_out])
                start += n_out
            self._grad, self._grad_views = grad, (nabla_w, nabla_b)
        return self._grad_views

    # -- the step ----------------------------------------------------------------

    def backprop(
        self, x: np.ndarray, onehot: np.ndarray, rows: np.ndarray, grad: np.ndarray
    ) -> tuple[float, bool]:
        """Gradient of the mean cost over samples ``x[rows]`` into ``grad``; return (cost, finite).

        ``grad`` is laid out like ``network.flat``; ``x`` and ``onehot`` arrays of the
        network's dtype, ``rows`` valid indices into them. ``finite`` is False once the
        cost, a gradient entry or a parameter is NaN or infinite (or so large that their
        products overflow float: a training that far gone has diverged too).
        """
        n = len(rows)
        b = self._buffers(n)
        # mode="clip": with out= and the default mode="raise", NumPy gathers into a
        # temporary first (so that a bad index leaves out untouched), 2-8x slower.
        np.take(x, rows, axis=0, out=b.x, mode="clip")
        np.take(onehot, rows, axis=0, out=b.y, mode="clip")
        cost = self._forward_and_output(b, b.x, b.y, n) / n
        nabla_w, nabla_b = self._gradient_views(grad)
        weights, acts, deltas, primes = self.network.weights, b.acts, b.deltas, b.primes
        for layer in range(len(weights) - 1, -1, -1):
            delta = deltas[layer]
            below = acts[layer - 1] if layer else b.x
            np.dot(delta.T, below, out=nabla_w[layer])
            np.dot(b.ones, delta, out=nabla_b[layer])
            if layer:
                back = np.dot(delta, weights[layer], out=deltas[layer - 1])
                back *= self._hidden_prime(below, primes[layer - 1])
        # Any NaN or infinity in either makes this dot product NaN or infinite.
        check = float(np.dot(grad, self.network.flat))
        return cost, math.isfinite(cost) and math.isfinite(check)

    def _forward_and_output(self, b: _Buffers, x: np.ndarray, y: np.ndarray, n: int) -> float:
        """Every layer's activation for inputs x, the output layer's ∂C/∂z; return the summed
        cost over the n rows (not yet the mean; the deltas are already divided by n)."""
        network, acts, tiles = self.network, b.acts, b.tiles
        last = len(acts) - 1
        a = x
        for layer, (w, bias) in enumerate(zip(network.weights, network.biases, strict=True)):
            z = np.dot(a, w.T, out=acts[layer])
            # z += bias would broadcast, and NumPy's broadcasting buffers 32 KB per call
            tile = tiles[layer]
            np.copyto(tile, bias)
            z += tile
            if layer < last and self._relu:
                np.maximum(z, 0.0, out=z)
            elif self._step and (layer < last or not self._softmax):
                np.heaviside(z, 0.0, out=z)  # 1 where z > 0, else 0
            elif layer < last or not self._softmax:
                _sigmoid(z, self._half)
            a = z
        if self._softmax:
            return self._softmax_output(b, y, n)
        # C = Σ(a − y)²/n, ∂C/∂z = 2(a − y)·a(1 − a)/n
        error, delta = b.primes[last], b.deltas[last]
        np.subtract(a, y, out=error)
        cost = float(np.dot(b.error, b.error))
        if self._step:  # ∂C/∂z = 2(a − y)·step'(z)/n = 0
            delta.fill(0.0)
            return cost
        np.subtract(self._one, a, out=delta)
        delta *= a
        delta *= error
        delta *= b.scale
        return cost

    def _softmax_output(self, b: _Buffers, y: np.ndarray, n: int) -> float:
        """The output layer's z → softmax p in place; ∂C/∂z = (p − y)/n; return −Σ y·log p.

        Row-wise values are spread over their rows by a product with a row of ones
        rather than by broadcasting, which would allocate a buffer on every call.
        """
        last = len(b.acts) - 1
        z, logp, delta, top = b.acts[last], b.primes[last], b.deltas[last], b.top
        spread, ones = b.tiles[last], self._ones_row
        np.max(z, axis=1, out=top[:, 0])
        np.subtract(z, np.matmul(top, ones, out=spread), out=logp)  # exp never overflows
        np.exp(logp, out=z)
        np.matmul(z, ones[0], out=top[:, 0])  # row sums
        z /= np.matmul(top, ones, out=spread)
        np.log(top, out=top)
        logp -= np.matmul(top, ones, out=spread)  # log p, exact where p underflows to 0
        cost = -float(np.dot(b.error, y.reshape(-1)))
        np.subtract(z, y, out=delta)
        delta *= b.scale
        return cost

    def _hidden_prime(self, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """f'(z) of a hidden layer from its activation a: σ' = a(1 − a), relu' = (a > 0),
        step' = 0."""
        if self._step:
            out.fill(0.0)
            return out
        if self._relu:
            return np.sign(a, out=out)  # a ≥ 0: 1 where a > 0, else 0
        np.subtract(self._one, a, out=out)
        out *= a
        return out

    # -- evaluation ----------------------------------------------------------------

    def evaluate(
        self,
        x: np.ndarray,
        onehot: np.ndarray,
        predicted: np.ndarray | None = None,
        bias_gradient: list[np.ndarray] | None = None,
    ) -> tuple[float, float]:
        """(mean cost, accuracy) of the network on all of ``x`` against one-hot labels.

        In passes of ``block`` rows, read in place. The accuracy counts the rows whose
        largest output is the labelled digit; ``predicted`` (int64, one per row), when
        given, receives those digits (for a confusion matrix: no second forward pass).
        ``bias_gradient`` (one array per layer, output last), when given, receives
        ∂C/∂b of the mean cost over all of ``x``, from the same forward pass: the deltas
        alone, without the weight products (the 784-wide one is most of a backprop's
        work), for the gradient sizes the digit page plots. Non-finite parameters make a
        NaN cost.
        """
        n_all = len(x)
        cost, correct = 0.0, 0
        if bias_gradient is not None:
            for part in bias_gradient:
                part.fill(0.0)
        for start in range(0, n_all, self.block):
            xs, ys = x[start : start + self.block], onehot[start : start + self.block]
            n = len(xs)
            b = self._buffers(n)
            cost += self._forward_and_output(b, xs, ys, n)
            read = b.acts[-1].argmax(axis=1)
            if predicted is not None:
                predicted[start : start + n] = read
            correct += int(np.count_nonzero(read == ys.argmax(axis=1)))
            if bias_gradient is not None:
                self._add_bias_gradient(b, n / n_all, bias_gradient)
        if not np.isfinite(self.network.flat).all():
            cost = np.nan
        return cost / max(n_all, 1), correct / max(n_all, 1)

    def _add_bias_gradient(self, b: _Buffers, share: float, out: list[np.ndarray]) -> None:
        """Add ``share`` × this pass's ∂C/∂b (its deltas are already of its mean cost) to out:
        backprop's deltas, without the weight gradients (``b.acts`` is left as it was)."""
        weights, acts, deltas, primes = self.network.weights, b.acts, b.deltas, b.primes
        for layer in range(len(weights) - 1, -1, -1):
            out[layer] += share * np.dot(b.ones, deltas[layer])
            if layer:
                back = np.dot(deltas[layer], weights[layer], out=deltas[layer - 1])
                back *= self._hidden_prime(acts[layer - 1], primes[layer - 1])


def _sigmoid(z: np.ndarray, half: np.ndarray) -> np.ndarray:
    """z = σ(z) = ½ + ½·tanh(z/2), in place: the same function as 1/(1 + e^−z), without
    its overflow for large negative z, in four calls (``half``: 0.5 as a 0-d array)."""
    z *= half
    np.tanh(z, out=z)
    z *= half
    z += half
    return z
