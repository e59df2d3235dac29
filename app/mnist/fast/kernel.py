"""The Numba engine: the training step's backprop in compiled loops (loops.py), buffers made once.

``NumbaKernel`` does ``Network.backprop``'s mathematics in one compiled call per
step that reads the batch's rows straight out of the training set and writes into
buffers made once. It agrees with ``Network.backprop`` to rounding
(tests/test_kernel.py), releases the GIL while it runs (so the server and the
evaluations use the other core), and allocates nothing per step. From
``SPLIT_FROM`` rows a step is shared by two threads, half the rows each. Only this
package imports Numba (``pip install "gdviz[fast]"``); app.mnist.engine picks it.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from app.mnist.engine import NUMBA_SPLIT_FROM
from app.mnist.fast import loops
from app.mnist.network import _EXP_FLOOR, Network

__all__ = ["BLOCK_ROWS", "SPLIT_FROM", "NumbaKernel", "compile_kernels"]

#: rows per pass through the network: their inputs (3 KB each) stay in a core's L2 cache
BLOCK_ROWS = 64
#: from this batch size on, a second thread computes half of each step's rows (why 512:
#: app.mnist.engine, which also tells the trainer how many cores a step keeps busy)
SPLIT_FROM = NUMBA_SPLIT_FROM

_helper: ThreadPoolExecutor | None = None  # the second half's thread, one for the process
_helper_lock = threading.Lock()


def _second_thread() -> ThreadPoolExecutor:
    global _helper
    with _helper_lock:
        if _helper is None:
            _helper = ThreadPoolExecutor(1, thread_name_prefix="gdviz-kernel-half")
        return _helper


class NumbaKernel:
    """Backprop and evaluation for one network, in passes of ``block`` rows, without allocating."""

    def __init__(
        self, network: Network, block: int = BLOCK_ROWS, split_from: int = SPLIT_FROM
    ) -> None:
        if network.activation not in ("sigmoid", "relu"):
            raise ValueError(f"the Numba engine has no {network.activation!r} activation")
        self.network = network
        self.block = block
        self.split_from = split_from  # batch size from which two threads share a step
        self.layout = _layout(network.sizes, block)
        self._state = self._new_state()
        self._half: tuple | None = None  # the second thread's buffers and gradient, on demand

    def _new_state(self) -> tuple:
        """Every argument of the compiled loops after the data: parameters, layout, buffers
        (the identity rows' length is the block size) and the network's kind."""
        network, block = self.network, self.block
        size = int(self.layout[-1, loops.A_AT]) + block * network.sizes[-1]
        return (
            network.flat,  # changed only in place, so this is always the current one
            self.layout,
            np.zeros(size, network.dtype),  # activations
            np.zeros(size, network.dtype),  # deltas
            np.arange(block, dtype=np.int64),
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

        From ``split_from`` rows on, a second thread computes the rows after the middle
        block boundary into a gradient of its own while this one computes the rest; the
        two are added (the same sums, in two parts: equal to rounding).
        """
        n = len(rows)
        if n < self.split_from:
            cost, finite = loops.backprop(x, onehot, rows, grad, *self._state)
            return float(cost), bool(finite)
        if self._half is None:
            self._half = (np.zeros_like(grad), self._new_state())
        other, state = self._half
        middle = max(self.block, n // 2 // self.block * self.block)
        second = _second_thread().submit(
            loops.backprop_part, x, onehot, rows[middle:], n, other, *state
        )
        try:
            cost = loops.backprop_part(x, onehot, rows[:middle], n, grad, *self._state)
        finally:
            other_cost = second.result()  # never left running into the next step's buffers
        cost, finite = loops.finish(cost + other_cost, n, grad, other, self.network.flat)
        return float(cost), bool(finite)

    def evaluate(
        self, x: np.ndarray, onehot: np.ndarray, predicted: np.ndarray | None = None
    ) -> tuple[float, float]:
        """(mean cost, accuracy) of the network on all of ``x`` against one-hot labels.

        The forward pass of ``backprop``, without the GIL: an evaluation in a second
        thread leaves the training thread and the event loop alone. The accuracy
        counts the rows whose largest output is the labelled digit; ``predicted``
        (int64, one per row), when given, receives those digits.
        """
        if predicted is None:
            predicted = np.empty(len(x), np.int64)
        cost, correct = loops.evaluate(x, onehot, predicted, *self._state)
        return float(cost), correct / max(len(x), 1)


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
    kernel = NumbaKernel(network, block=2, split_from=4)  # batches of 4 take both threads
    for inputs in (x, stored):
        kernel.backprop(inputs, onehot, np.arange(2), grad)
        kernel.backprop(inputs, onehot, np.arange(4), grad)
        kernel.evaluate(inputs, onehot)
