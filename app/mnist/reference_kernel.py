"""``Network.backprop`` as a training kernel, for what the fast kernels leave out.

The NumPy and Numba kernels (app/mnist/kernel.py, app/mnist/fast/) know the sigmoid
and the rectifier. The step activation is there to show that a network whose every
derivative is 0 cannot learn, not to be fast, so it trains on the readable version.
"""

from __future__ import annotations

import math

import numpy as np

from app.mnist.network import Network

__all__ = ["ReferenceKernel"]

BLOCK = 2000  # rows per evaluation pass


class ReferenceKernel:
    """Backprop and evaluation straight from ``Network`` (allocating as it goes)."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def backprop(
        self, x: np.ndarray, onehot: np.ndarray, rows: np.ndarray, grad: np.ndarray
    ) -> tuple[float, bool]:
        """Gradient of the mean cost over ``x[rows]`` into ``grad`` (laid out as
        ``network.flat``: weights, then biases); return (cost, finite)."""
        nabla_w, nabla_b, cost = self.network.backprop(x[rows], onehot[rows])
        np.concatenate([w.ravel() for w in nabla_w] + list(nabla_b), out=grad)
        check = float(np.dot(grad, self.network.flat))
        return cost, math.isfinite(cost) and math.isfinite(check)

    def evaluate(self, x: np.ndarray, onehot: np.ndarray) -> tuple[float, float]:
        """(mean cost, accuracy) on all of ``x``."""
        total, correct = 0.0, 0
        for start in range(0, len(x), BLOCK):
            xs, ys = x[start : start + BLOCK], onehot[start : start + BLOCK]
            cost, out = self.network.cost_and_output(xs, ys)
            total += cost * len(xs)
            correct += int(np.count_nonzero(out.argmax(axis=1) == ys.argmax(axis=1)))
        n = max(len(x), 1)
        return total / n, correct / n
