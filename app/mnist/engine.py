"""Which training engine runs: NumPy always, the compiled Numba kernel when installed.

Like pandas' ``engine="numba"``: the NumPy engine (app.mnist.kernel) is always
there and is the reference; the Numba engine (app.mnist.fast) is an optional
accelerator, ``pip install "gdviz[fast]"``, chosen by ``"auto"`` when Numba
imports. Both kernels offer the same call::

    kernel = make_kernel(network, resolve_engine("auto"))
    cost, finite = kernel.backprop(x, onehot, rows, grad)  # grad laid out as network.flat

Both evaluate too (``kernel.evaluate``: forward passes, the gradient's bias part):
app.mnist.training uses the Numba engine's evaluation only where its steps are split
over threads, and NumPy's otherwise (one BLAS thread computes a forward pass faster
than one core of compiled loops).

Only app.mnist.fast imports Numba, and only when its engine is asked for.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Protocol

import numpy as np

from app.mnist.kernel import NumpyKernel
from app.mnist.network import Network

__all__ = [
    "ENGINES",
    "Kernel",
    "make_kernel",
    "numba_available",
    "release_step_threads",
    "resolve_engine",
    "step_cores",
    "stepping",
    "trainings_stepping",
    "warm_up",
]

ENGINES = ("numpy", "numba")
NEEDS_NUMBA = 'GDVIZ_ENGINE=numba needs Numba: pip install "gdviz[fast]"'
#: from this batch size on, the NumPy engine's 784-wide products run faster on two BLAS
#: threads (at batch 10 one: waking a second costs more than it saves)
BLAS_PAIR_FROM = 64


_stepping = 0  # trainings inside stepping() in this process
_stepping_lock = threading.Lock()


@contextlib.contextmanager
def stepping() -> Iterator[None]:
    """Enter around a run of training steps (``Trainer.run``): counts the trainings that
    step in this process at this moment, for the Numba engine's ``trainings_stepping``."""
    global _stepping
    with _stepping_lock:
        _stepping += 1
    try:
        yield
    finally:
        with _stepping_lock:
            _stepping -= 1


def trainings_stepping() -> int:
    """How many trainings are taking steps in this process right now.

    Where two or more are, the Numba engine keeps each step on one core
    (app.mnist.fast.kernel): the cores are taken already, and split steps of two
    trainings only wait for each other's threads (two trainings at batch 128 took
    0.102 s together split, 0.078 on one core each; at 1,000, 0.074 against 0.069).
    """
    return _stepping


class Kernel(Protocol):
    """What a training engine offers for one network."""

    network: Network

    def backprop(
        self, x: np.ndarray, onehot: np.ndarray, rows: np.ndarray, grad: np.ndarray
    ) -> tuple[float, bool]: ...

    def evaluate(
        self,
        x: np.ndarray,
        onehot: np.ndarray,
        predicted: np.ndarray | None = None,
        bias_gradient: list[np.ndarray] | None = None,
    ) -> tuple[float, float]: ...


def numba_available() -> bool:
    """True if Numba imports (a broken install counts as missing)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_engine(requested: str = "auto", activation: str | None = None) -> str:
    """The engine that will run: "numpy" or "numba".

    "auto" picks Numba when it imports, at every batch size: over ``/ws/train`` its
    loops ran ahead of or level with BLAS's products on both cores, far ahead at small
    batches (side by side, with its steps still on one core: 0.103 against 0.124 s at
    batch 128, 0.090 against 0.117 s at 1,000; the README's Performance). The
    ``step`` activation always runs on NumPy: the compiled loops have no step, and a
    network of steps learns nothing (its gradient is 0), so there is nothing to speed up.
    """
    if activation == "step" and requested in ("auto", *ENGINES):
        return "numpy"
    if requested == "auto":
        return "numba" if numba_available() else "numpy"
    if requested not in ENGINES:
        raise ValueError(f"unknown engine {requested!r} (choose from auto, {', '.join(ENGINES)})")
    if requested == "numba" and not numba_available():
        raise ValueError(NEEDS_NUMBA)
    return requested


def step_cores(engine: str, batch_size: int) -> int:
    """The cores one training step of ``engine`` keeps busy at this batch size.

    Where it is one, the other core is free for the evaluations (app.web.live_training
    runs them there) and the server; where more, an evaluation beside the steps only
    fights them. The compiled loops split a step into parts on threads of their own
    from 2 × PART_ROWS rows (app.mnist.fast.kernel); NumPy's steps (BLAS) take two
    cores from BLAS_PAIR_FROM rows.
    """
    if resolve_engine(engine) == "numba":
        from app.mnist.fast.kernel import step_parts

        return step_parts(batch_size)
    return 2 if batch_size >= BLAS_PAIR_FROM else 1


def make_kernel(network: Network, engine: str) -> Kernel:
    """A backprop-and-evaluation kernel for ``network`` on ``engine`` ("auto" resolved here).

    The step activation, which the compiled loops do not have, always runs on NumPy.
    """
    if resolve_engine(engine, activation=network.activation) == "numba":
        from app.mnist.fast.kernel import NumbaKernel

        return NumbaKernel(network)
    return NumpyKernel(network)


def release_step_threads(engine: str) -> None:
    """(In a training thread about to idle) let go of the threads its steps were split over:
    the Numba engine's OpenMP team (app.mnist.fast.kernel.release_threads). NumPy's BLAS
    threads are shared by the whole process and sleep on their own: nothing to do."""
    if resolve_engine(engine) == "numba":
        from app.mnist.fast.kernel import release_threads

        release_threads()


def warm_up(
    engine: str = "auto", background: bool = True, then: Callable[[], object] | None = None
) -> threading.Thread | None:
    """Get ``engine`` ready before a training needs it, then call ``then``.

    For Numba: compile (or load from its cache) the kernels, which takes seconds on a
    fresh install, in a thread when ``background`` (returned). NumPy needs nothing:
    ``then`` is called at once and None returned.
    """
    if resolve_engine(engine) == "numpy":
        if then is not None:
            then()
        return None

    def run() -> None:
        from app.mnist.fast.kernel import compile_kernels

        compile_kernels()
        if then is not None:
            then()

    if not background:
        run()
        return None
    thread = threading.Thread(target=run, name="gdviz-kernel-warm-up", daemon=True)
    thread.start()
    return thread
