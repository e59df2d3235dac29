"""The Numba engine: a mini-batch's backprop in compiled loops (loops.py), buffers made once.

``NumbaKernel`` does ``Network.backprop``'s mathematics in one compiled call per
step that reads the batch's rows straight out of the training set and writes into
buffers made once. It agrees with ``Network.backprop`` to rounding
(tests/test_kernel.py), releases the GIL while it runs, and allocates nothing per
step. It keeps to one core at every batch size, which is why it keeps up end to
end even where BLAS on two threads computes a step faster (0.61 against ~1.4 ms at
batch 1,000): the other core is left to the evaluations (always on NumPy,
app.mnist.training, in their own thread), the event loop and the page. Only this
package imports Numba (``pip install "gdviz[fast]"``); app.mnist.engine picks it.
"""

from __future__ import annotations

import numpy as np

from app.mnist.fast import loops
from app.mnist.network import _EXP_FLOOR, Network

__all__ = ["BLOCK_ROWS", "NumbaKernel", "compile_kernels"]

#: rows per pass through the network: their inputs (3 KB each) stay in a core's L2 cache
BLOCK_ROWS = 64


class NumbaKernel:
    """Backprop for one network, in passes of ``block`` rows, without allocating."""

    def __init__(self, network: Network, block: int = BLOCK_ROWS) -> None:
        if network.activation not in ("sigmoid", "relu"):
            raise ValueError(f"the Numba engine has no {network.activation!r} activation")
        self.network = network
        self.block = block
        self.layout = _layout(network.sizes, block)
        self._state = self._new_state()

    def _new_state(self) -> tuple:
        """Every argument of the compiled loops after the data: parameters, layout, buffers
        (the identity rows' length is the block size) and the network's kind."""
        network, block = self.network, self.block
        size = int(self.layout[-1, loops.A_AT]) + block * network.sizes[-1]
        sizes = network.sizes
        beyond_first = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:], strict=True))
        return (
            network.flat,  # changed only in place, so this is always the current one
            self.layout,
            np.zeros(size, network.dtype),  # activations
            np.zeros(size, network.dtype),  # deltas
            np.arange(block, dtype=np.int64),
            np.zeros(max(beyond_first, 1), network.dtype),  # their weights, transposed
            np.zeros(max(sizes[1:-1], default=1), network.dtype),  # a zero bias
            network.activation == "relu",
            network.cost_name == "cross_entropy",
            network.dtype.type(_EXP_FLOOR[network.dtype]),
        )

    def backprop(
        self, x: np.ndarray, onehot: np.ndarray, rows: np.ndarray, grad: np.ndarray
    ) -> tuple[float, bool]:
        """Gradient of the mean cost over samples ``x[rows]`` into ``grad``; return (cost, finite).

        ``grad`` is laid out like ``network.flat``; ``x`` and ``onehot`` must be
        C-contiguous arrays of the network's dtype, ``rows`` int64 indices into them
        (any number: they go through in blocks). ``finite`` is False once the cost,
        a gradient entry or a parameter is NaN or infinite.
        """
        cost, finite = loops.backprop(x, onehot, rows, grad, *self._state)
        return float(cost), bool(finite)


def _layout(sizes: tuple[int, ...], block: int) -> np.ndarray:
    """loops.py's layer table: inputs, outputs, W's and b's offsets in flat, rows' offset."""
    pairs = list(zip(sizes[:-1], sizes[1:], strict=True))
    layout = np.zeros((len(pairs), 5), np.int64)
    w_at = 0
    b_at = sum(n_in * n_out for n_in, n_out in pairs)
    a_at = 0
    for layer, (n_in, n_out) in enumerate(pairs):
        layout[layer] = (n_in, n_out, w_at, b_at, a_at)
        w_at += n_in * n_out
        b_at += n_out
        a_at += block * n_out
    return layout


def compile_kernels() -> None:
    """Compile (or load from Numba's cache) the float32 kernels before a training needs them.

    A fresh install compiles for a few seconds once; afterwards the cache loads in
    well under a second. Both the writable and the read-only input types are
    compiled: the data layer hands out read-only digits, a type Numba compiles apart.
    """
    network = Network((4, 3, 2))
    x = np.zeros((4, 4), np.float32)
    onehot = np.eye(2, dtype=np.float32)[[0, 1, 0, 1]]
    grad = np.zeros_like(network.flat)
    stored = x.copy()
    stored.flags.writeable = False
    kernel = NumbaKernel(network, block=2)
    for inputs in (x, stored):
        kernel.backprop(inputs, onehot, np.arange(4), grad)
