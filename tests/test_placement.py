"""A NumPy-engine training's two BLAS threads on two cores while it trains alone, and every
core back as soon as it stops, pauses or another training comes (app.mnist.placement).

Skipped where nothing can be placed (one CPU, no Linux /proc, a BLAS other than OpenBLAS
with ``openblas_setaffinity``); in CI a skip fails the run.
"""

import ctypes
import os
import threading

import numpy as np
import pytest

from app.mnist import placement
from app.mnist.data import Dataset
from app.mnist.training import TrainConfig, Trainer

pytestmark = pytest.mark.skipif(
    len(os.sched_getaffinity(0)) < 2
    or placement._current_cpu() is None
    or placement._openblas() is None,
    reason="one CPU, no /proc/thread-self, or no OpenBLAS with openblas_setaffinity",
)


def _data() -> Dataset:
    rng = np.random.default_rng(0)
    x = rng.random((300, 784), dtype=np.float32)
    labels = np.arange(300) % 10
    return Dataset(x, labels, x[:100], labels[:100], "test")


def trainer(engine: str = "numpy", batch: int = 128) -> Trainer:
    return Trainer(TrainConfig(batch_size=batch, epochs=1), _data(), engine=engine)


def worker_cpus() -> set[int]:
    """The CPUs OpenBLAS's first worker thread may run on."""
    library, _ = placement._openblas()
    get = library.dynlib.openblas_getaffinity
    get.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p]
    mask = (ctypes.c_ulong * 16)()
    assert get(0, ctypes.sizeof(mask), ctypes.byref(mask)) == 0
    return {cpu for cpu in range(16 * 64) if mask[cpu // 64] >> (cpu % 64) & 1}


def test_a_training_alone_keeps_its_thread_on_one_core_and_the_blas_worker_off_it():
    every = os.sched_getaffinity(0)
    before = worker_cpus()
    t = trainer()
    with t.threads():
        mine = os.sched_getaffinity(0)
        assert len(mine) == 1
        assert worker_cpus() == every - mine
        t.run(3)  # it trains so placed
        assert os.sched_getaffinity(0) == mine
    assert os.sched_getaffinity(0) == every
    assert worker_cpus() == before == every


@pytest.mark.parametrize(("engine", "batch"), [("numpy", 10), ("numba", 1000)])
def test_nothing_is_placed_where_a_step_does_not_run_blas_on_two_threads(engine, batch):
    if engine == "numba":
        pytest.importorskip("numba", reason='Numba missing: pip install "gdviz[fast]"')
    every = os.sched_getaffinity(0)
    with trainer(engine, batch).threads():
        assert os.sched_getaffinity(0) == every
        assert placement._holder is None


def test_a_second_training_gives_the_first_every_core_back_at_once():
    every = os.sched_getaffinity(0)
    first, second = trainer(), trainer()
    placed_first, inside, leave = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def train_first():
        with first.threads():
            seen["id"] = threading.get_native_id()
            seen["placed"] = os.sched_getaffinity(0)
            placed_first.set()
            leave.wait(10)
            seen["after the second came"] = os.sched_getaffinity(0)

    thread = threading.Thread(target=train_first)
    thread.start()
    try:
        assert placed_first.wait(10)
        assert len(seen["placed"]) == 1
        with second.threads():  # the newcomer, placed nowhere, lets the first go
            inside.set()
            assert os.sched_getaffinity(seen["id"]) == every
            assert worker_cpus() == every
            assert os.sched_getaffinity(0) == every
            assert placement._present == 2
    finally:
        leave.set()
        thread.join(10)
    assert seen["after the second came"] == every
    assert placement._present == 0


def test_a_pause_gives_every_core_back():
    every = os.sched_getaffinity(0)
    t = trainer()
    with t.threads():
        assert len(os.sched_getaffinity(0)) == 1
        t.rest()
        assert os.sched_getaffinity(0) == every
        assert worker_cpus() == every


def test_where_the_cpu_cannot_be_read_nothing_is_placed(monkeypatch):
    monkeypatch.setattr(placement, "_current_cpu", lambda: None)
    every = os.sched_getaffinity(0)
    with trainer().threads():
        assert os.sched_getaffinity(0) == every
        assert worker_cpus() == every
