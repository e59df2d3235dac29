"""The training hot loop: one mini-batch's backprop into buffers allocated once.

``Network.backprop`` is the readable version: it checks its inputs, builds lists
and allocates every intermediate array afresh.  At batch 10 a step is ~50 NumPy
calls on tiny arrays, so that plumbing costs as much as the arithmetic.  The
``BackpropKernel`` does the same operations, in the same order, on the same
dtypes — so it gives bit-identical gradients and cost (tests/test_kernel.py
checks every activation and cost) — but writes each one into a preallocated
buffer: no per-step allocation, no per-step checks, the batch gathered straight
into place.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.mnist.network import _EXP_FLOOR, Network

__all__ = ["BackpropKernel"]


@dataclass
class _Buffers:
    """Every array one step writes, for one batch size (views of the full-size ones)."""

    x: np.ndarray  # the batch's inputs (n, n_in)
    y: np.ndarray  # its one-hot labels (n, n_out)
    zs: list[np.ndarray]  # weighted inputs per layer
    activations: list[np.ndarray]  # outputs per layer
    deltas: list[np.ndarray]  # ∂C/∂z per layer
    work: list[np.ndarray]  # σ'(z) of hidden layers; the output error


class BackpropKernel:
    """Backprop for batches of up to ``batch_size`` rows of one network, without allocating."""

    def __init__(self, network: Network, batch_size: int) -> None:
        self.network = network
        self.batch_size = batch_size
        self._full = self._allocate(network, batch_size)
        self._views: dict[int, _Buffers] = {batch_size: self._full}

    @staticmethod
    def _allocate(network: Network, rows: int) -> _Buffers:
        dtype, sizes = network.dtype, network.sizes

        def layers() -> list[np.ndarray]:
            return [np.empty((rows, n), dtype) for n in sizes[1:]]

        x, y = np.empty((rows, sizes[0]), dtype), np.empty((rows, sizes[-1]), dtype)
        return _Buffers(x, y, layers(), layers(), layers(), layers())

    def _buffers(self, rows: int) -> _Buffers:
        """The first ``rows`` rows of every buffer (an epoch's last batch may be short)."""
        if rows not in self._views:
            full = self._full

            def cut(arrays: list[np.ndarray]) -> list[np.ndarray]:
                return [a[:rows] for a in arrays]

            self._views[rows] = _Buffers(
                full.x[:rows],
                full.y[:rows],
                cut(full.zs),
                cut(full.activations),
                cut(full.deltas),
                cut(full.work),
            )
        return self._views[rows]

    def backprop(
        self,
        x: np.ndarray,
        y: np.ndarray,
        rows: np.ndarray,
        nabla_w: list[np.ndarray],
        nabla_b: list[np.ndarray],
    ) -> float:
        """Gradient of the mean cost over samples ``x[rows]`` into nabla_w/nabla_b; return the cost.

        ``x`` and ``y`` (one-hot) must already have the network's dtype and shapes.
        """
        b = self._buffers(len(rows))
        # mode="clip": with out= and the default mode="raise", NumPy gathers into a temporary
        # first (so a bad index leaves out untouched) — 2-8x slower. rows are always valid.
        np.take(x, rows, axis=0, out=b.x, mode="clip")
        np.take(y, rows, axis=0, out=b.y, mode="clip")
        output = self._forward(b)
        last = len(b.zs) - 1
        error = b.work[last]
        np.subtract(output, b.y, out=error)
        cost = self.network._cost(b.zs[last], error, b.y)
        delta = self._output_delta(output, error, b.deltas[last])
        weights = self.network.weights
        for layer in range(last, -1, -1):
            below = b.activations[layer - 1] if layer > 0 else b.x
            np.matmul(delta.T, below, out=nabla_w[layer])
            delta.sum(axis=0, out=nabla_b[layer])
            if layer > 0:
                delta = np.matmul(delta, weights[layer], out=b.deltas[layer - 1])
                delta *= self._hidden_prime(b.zs[layer - 1], below, b.work[layer - 1])
        return cost

    def _forward(self, b: _Buffers) -> np.ndarray:
        network, a = self.network, b.x
        last = len(b.zs) - 1
        for layer, (w, bias) in enumerate(zip(network.weights, network.biases, strict=True)):
            z, out = b.zs[layer], b.activations[layer]
            np.matmul(a, w.T, out=z)
            z += bias
            if layer < last and network.activation == "relu":
                np.maximum(z, 0.0, out=out)
            elif layer == last and network.cost_name == "cross_entropy":
                _softmax(z, out)
            else:
                _sigmoid(z, out)
            a = out
        return a

    def _output_delta(self, a: np.ndarray, error: np.ndarray, delta: np.ndarray) -> np.ndarray:
        """Network._output_delta, into ``delta``."""
        scale = 1.0 / len(a)
        if self.network.cost_name == "quadratic":
            np.subtract(1.0, a, out=delta)
            delta *= a
            delta *= error
            delta *= 2.0 * scale
            return delta
        return np.multiply(error, scale, out=delta)

    def _hidden_prime(self, z: np.ndarray, a: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Network._hidden_prime, into ``out``."""
        if self.network.activation == "sigmoid":
            np.subtract(1.0, a, out=out)
            out *= a
            return out
        return np.greater(z, 0.0, out=out)  # relu': 1 where z > 0, else 0


def _sigmoid(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """network.sigmoid(z), written into ``out``."""
    np.maximum(z, _EXP_FLOOR.get(z.dtype, -708.0), out=out)
    np.negative(out, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def _softmax(z: np.ndarray, out: np.ndarray) -> np.ndarray:
    """network.softmax(z), written into ``out``."""
    np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out
