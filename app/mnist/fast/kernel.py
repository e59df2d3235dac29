"""The Numba engine: a mini-batch's backprop in compiled loops (loops.py), buffers made once.

``NumbaKernel`` does ``Network.backprop``'s mathematics in one compiled call per
step that reads the batch's rows straight out of the training set and writes into
buffers made once. It agrees with ``Network.backprop`` to rounding
(tests/test_kernel.py), releases the GIL while it runs, and allocates no buffers.

Below ``2 × PART_ROWS`` rows a step runs on one core, and the other is left to the
evaluations (on NumPy, in their own thread), the event loop and the page. From
there on the rows are split into parts, one per core, each on one of Numba's
threads (``loops.backprop_parts``): a step at batch 1,000 takes about half the time
on two cores (0.32 against 0.60 ms here), and the training's evaluations, which then
run between its steps, are split the same way (``evaluate``). The threads
come from a thread-safe threading layer, OpenMP or TBB: Numba's own fallback
(workqueue) stops the process when two trainings step at once, so without either
a step keeps to one core. Only this package imports Numba
(``pip install "gdviz[fast]"``); app.mnist.engine picks it.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from collections.abc import Callable
from typing import TypeVar

import numba
import numpy as np

from app.mnist.engine import trainings_stepping
from app.mnist.fast import loops
from app.mnist.network import _EXP_FLOOR, Network

__all__ = [
    "BLOCK_ROWS",
    "MAX_PARTS",
    "PART_ROWS",
    "NumbaKernel",
    "compile_kernels",
    "in_own_thread",
    "release_threads",
    "step_parts",
    "step_threads",
]

#: rows per pass through the network: their inputs (3 KB each) stay in a core's L2 cache
BLOCK_ROWS = 64
#: the fewest rows worth a thread of their own: over /ws/train, side by side, a training split
#: in two from 64 rows took 0.055–0.064 s per 60,000 samples at batch 128 against
#: 0.078–0.080 on one core, 0.063 against 0.080 at 64; at 48 and 32 the same either way.
#: (A session measured splitting at 128 slower, 0.102 against 0.091 s, while every
#: training's first evaluation ran on a second thread: see ``in_own_thread``.)
PART_ROWS = 32
#: the most parts a step is split into, whatever the cores: each part but the first has a
#: gradient of its own (4.8 MB for the largest network the page allows, 4 × 512 hidden)
MAX_PARTS = 8
#: rows of the tiny problem that compiles the kernels: two parts of 4
TINY_ROWS = 8
#: omp_pause_soft, OpenMP 5.0's omp_pause_resource_t for "free threads, keep settings"
OMP_PAUSE_SOFT = 1
#: Numba's threading layers that may be entered from several threads at once
_THREADSAFE_LAYERS = ("omp", "tbb", "safe", "threadsafe")

T = TypeVar("T")

if numba.config.THREADING_LAYER not in _THREADSAFE_LAYERS:
    numba.config.THREADING_LAYER = "threadsafe"  # OpenMP or TBB, whichever loads


class NumbaKernel:
    """Backprop for one network, in passes of ``block`` rows, without allocating."""

    def __init__(
        self,
        network: Network,
        block: int = BLOCK_ROWS,
        threads: int | None = None,
        part_rows: int = PART_ROWS,
    ) -> None:
        if network.activation not in ("sigmoid", "relu"):
            raise ValueError(f"the Numba engine has no {network.activation!r} activation")
        self.network = network
        self.block = block
        #: the most parts a step is split into (default: step_threads())
        self.threads = step_threads() if threads is None else max(1, int(threads))
        self.part_rows = part_rows
        self.layout = _layout(network.sizes, block)
        self._buffers = self._new_buffers()
        self._arguments: dict[int, tuple] = {}  # the compiled loops' arguments, per parts
        self._bias_gradient = np.zeros_like(network.flat)  # an evaluation's, laid out as flat
        self._rows = np.arange(0, dtype=np.int64)  # 0, 1, 2, …: an evaluation's rows
        self._read = np.zeros(0, np.int64)  # an evaluation's digits as read

    def parts(self, rows: int) -> int:
        """How many parts, one per thread, a step over ``rows`` rows is split into: one
        while another training steps too (app.mnist.engine.trainings_stepping)."""
        if trainings_stepping() > 1:
            return 1
        return step_parts(rows, self.threads, self.part_rows)

    def _new_buffers(self) -> tuple:
        """Every array the compiled loops write or read besides the data and the gradient,
        made once: each part's activations and deltas, the other parts' gradients and
        costs, the identity rows (as many as a block), the layers' transposed weights
        (those after the first) and a zero bias."""
        network, block, sizes, threads = self.network, self.block, self.network.sizes, self.threads
        size = int(self.layout[-1, loops.A_AT]) + block * sizes[-1]
        beyond_first = sum(a * b for a, b in zip(sizes[1:-1], sizes[2:], strict=True))
        return (
            np.zeros((threads, size), network.dtype),  # activations
            np.zeros((threads, size), network.dtype),  # deltas
            np.zeros((threads - 1, network.flat.size), network.dtype),  # parts' gradients
            np.zeros(threads),  # parts' costs
            np.arange(block, dtype=np.int64),
            np.zeros(max(beyond_first, 1), network.dtype),
            np.zeros(max(sizes[1:-1], default=1), network.dtype),
        )

    def _arguments_for(self, parts: int) -> tuple:
        """The compiled loops' arguments after (x, onehot, rows, grad), for ``parts`` parts:
        views made once, not at every step (each costs ~0.2 µs; a step at batch 10 ~10)."""
        if parts not in self._arguments:
            acts, deltas, more_grads, costs, *shared = self._buffers
            network = self.network
            kind = (
                network.activation == "relu",
                network.cost_name == "cross_entropy",
                network.dtype.type(_EXP_FLOOR[network.dtype]),
            )
            # network.flat is changed only in place, so this is always the current one
            head, tail = (network.flat, self.layout), (*shared, *kind)
            if parts == 1:
                arguments = (*head, acts[0], deltas[0], *tail)
            else:
                parts_own = (more_grads[: parts - 1], costs[:parts])
                arguments = (*parts_own, *head, acts[:parts], deltas[:parts], *tail)
            self._arguments[parts] = arguments
        return self._arguments[parts]

    def backprop(
        self, x: np.ndarray, onehot: np.ndarray, rows: np.ndarray, grad: np.ndarray
    ) -> tuple[float, bool]:
        """Gradient of the mean cost over samples ``x[rows]`` into ``grad``; return (cost, finite).

        ``grad`` is laid out like ``network.flat``; ``x`` and ``onehot`` must be
        C-contiguous arrays of the network's dtype, ``rows`` int64 indices into them
        (any number: they go through in blocks, and from ``2 × PART_ROWS`` in parts on
        threads of their own). ``finite`` is False once the cost, a gradient entry or a
        parameter is NaN or infinite.
        """
        parts = self.parts(len(rows))
        compiled = loops.backprop if parts == 1 else loops.backprop_parts
        cost, finite = compiled(x, onehot, rows, grad, *self._arguments_for(parts))
        return float(cost), bool(finite)

    def evaluate(
        self,
        x: np.ndarray,
        onehot: np.ndarray,
        predicted: np.ndarray | None = None,
        bias_gradient: list[np.ndarray] | None = None,
    ) -> tuple[float, float]:
        """(mean cost, accuracy) of the network on all of ``x``: ``NumpyKernel.evaluate``'s
        call, in the compiled loops, from ``2 × PART_ROWS`` rows in parts on threads of
        their own. A training whose steps use those threads evaluates between its steps
        in its own thread (app.web.live_training), and on NumPy's one BLAS thread an
        evaluation of 1,000 + 1,000 digits took ~1.5 ms, as long as two steps.
        """
        n = len(x)
        if len(self._rows) < n:
            self._rows, self._read = np.arange(n, dtype=np.int64), np.zeros(n, np.int64)
        read = self._read[:n] if predicted is None else predicted
        parts = self.parts(n)
        compiled = loops.evaluate if parts == 1 else loops.evaluate_parts
        arguments = self._arguments_for(parts)
        wanted = bias_gradient is not None
        rows, grad = self._rows[:n], self._bias_gradient
        cost, finite = compiled(x, onehot, rows, read, grad, *arguments, wanted)
        if wanted:
            for layer, out in enumerate(bias_gradient):
                out[...] = grad[self.layout[layer, loops.B_AT] :][: len(out)]
        correct = int(np.count_nonzero(read == onehot.argmax(axis=1)))
        return (float(cost) if finite else np.nan), correct / max(n, 1)


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

    A fresh install compiles once (~25 s on this 2-core machine); afterwards the cache
    loads in 0.2 s. Both the writable and the read-only input types are
    compiled: the data layer hands out read-only digits, a type Numba compiles apart.
    Steps and evaluations, in one part and split (where threads are to be had).
    """
    kernel = _tiny_kernel(min(2, step_threads()))
    biases = [np.zeros(size, np.float32) for size in kernel.network.sizes[1:]]

    def compile_all() -> None:
        for inputs, onehot in _tiny_problems():
            for n in (TINY_ROWS // 2, TINY_ROWS):  # one part, then two
                flat = np.zeros_like(kernel.network.flat)
                kernel.backprop(inputs, onehot, np.arange(n), flat)
                kernel.evaluate(inputs[:n], onehot[:n], bias_gradient=biases)

    in_own_thread(compile_all)


def in_own_thread(work: Callable[[], T]) -> T:
    """``work()`` in a thread that ends with it: its split calls' OpenMP threads end too.

    GNU OpenMP gives every thread that makes a parallel call a team of threads of its
    own, kept while that thread lives, and once it manages more threads than there are
    cores, every team's idle threads spin 100 rounds instead of GOMP_SPINCOUNT's
    (app/__init__.py) before they sleep: each split step then waits for a sleeping
    thread to wake. One idle team left in a long-lived thread (an executor's, the
    evaluator's) made a training's split steps at batch 128 take 55 ms per 60,000
    samples where they took 31. So the probes and compilations run here, and only a
    training's own thread makes split calls (app.web.live_training).
    """
    result: list[T] = []
    problem: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as error:  # re-raised in the caller's thread
            problem.append(error)

    thread = threading.Thread(target=run, name="gdviz-kernel-probe")
    thread.start()
    thread.join()
    if problem:
        raise problem[0]
    return result[0]


def release_threads() -> None:
    """Let the calling thread's OpenMP team go (its threads end), if it has one.

    For a training thread about to idle (paused): its idle team would make every other
    training's split steps wait for woken threads (``in_own_thread``). The next split
    call makes a new team. OpenMP 5's ``omp_pause_resource_all`` does it; only GNU
    OpenMP as Numba loads it is asked (elsewhere, e.g. TBB, nothing to do here).
    """
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel call yet in this process: no team anywhere
        return
    runtime = _gnu_openmp() if layer == "omp" else None
    if runtime is not None:
        runtime.omp_pause_resource_all(OMP_PAUSE_SOFT)


@functools.cache
def _gnu_openmp() -> ctypes.CDLL | None:
    """GNU OpenMP if this process has it loaded (Numba's OpenMP layer links it), else None."""
    try:
        runtime = ctypes.CDLL("libgomp.so.1", mode=os.RTLD_NOLOAD)
        runtime.omp_pause_resource_all.argtypes = [ctypes.c_int]
    except (OSError, AttributeError):  # not loaded (another OpenMP), or before OpenMP 5
        return None
    return runtime


def _tiny_kernel(threads: int) -> NumbaKernel:
    """A 4-3-2 network's kernel that splits TINY_ROWS rows into two parts (given two threads)."""
    return NumbaKernel(Network((4, 3, 2)), block=2, threads=threads, part_rows=TINY_ROWS // 2)


def _tiny_problems() -> list[tuple[np.ndarray, np.ndarray]]:
    """(inputs, one-hot) of TINY_ROWS rows for the tiny kernel, writable and read-only."""
    x = np.zeros((TINY_ROWS, 4), np.float32)
    onehot = np.eye(2, dtype=np.float32)[np.arange(TINY_ROWS) % 2]
    stored = x.copy()
    stored.flags.writeable = False
    return [(x, onehot), (stored, onehot)]


def step_parts(rows: int, threads: int | None = None, part_rows: int = PART_ROWS) -> int:
    """How many parts, one per thread, a step over ``rows`` rows is split into: one per
    ``part_rows`` rows, as many as ``threads`` (default: step_threads()) at most."""
    threads = step_threads() if threads is None else threads
    return max(1, min(threads, rows // part_rows))


@functools.cache
def step_threads() -> int:
    """The threads a step may be split over: Numba's (one per core, unless
    ``NUMBA_NUM_THREADS`` says otherwise; MAX_PARTS at most) where a thread-safe layer
    loads, else 1.

    Found by a split step on a tiny network (compiled, or loaded from Numba's cache,
    on the first call): Numba loads its threading layer at the first parallel call.
    """
    threads = min(numba.get_num_threads(), MAX_PARTS)
    if threads < 2:
        return 1
    kernel = _tiny_kernel(2)
    x, onehot = _tiny_problems()[0]
    grad = np.zeros_like(kernel.network.flat)
    try:
        in_own_thread(lambda: kernel.backprop(x, onehot, np.arange(TINY_ROWS), grad))
    except ValueError:  # "No threading layer could be loaded": neither OpenMP nor TBB
        return 1
    return threads
