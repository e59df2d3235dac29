"""Two BLAS threads, two cores: a NumPy-engine training's thread and OpenBLAS's worker apart.

Why: between trainings OpenBLAS's worker thread sleeps (app/__init__.py sets how
soon). A training's first product wakes it, and Linux often puts a woken thread
on the core of the thread that woke it, even with the other core idle. Traced on
this machine (``perf sched``): the training thread and the worker then shared one
core for up to ~15 ms while the other idled, until the scheduler's balancing moved
one; the first products of a training took up to ten times as long (a 512×512
product: 1.5–17 ms, against 1.1 warm). Over ``/ws/train``, side by side (24 and
16 trainings in turns), keeping them apart made a NumPy-engine training 13 %
faster at batch 1,000 and 11 % at 128.

So a training whose steps run BLAS on two threads, while it is the only training
in the process, keeps its thread on the core it starts on and OpenBLAS's worker
on the others (OpenBLAS's own ``openblas_setaffinity``), for as long as it trains.
As soon as another training is in the process, the placed one is let go (by the
newcomer's thread, at once): two trainings' threads fixed to cores could land on
one core, where they would take turns (OpenMP's thread binding did that to the
Numba engine; README, Performance). A pause lets go too. Where there is no
OpenBLAS with that function, one core, or no Linux ``/proc``, nothing is placed.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator

__all__ = ["let_go", "placed"]

_lock = threading.Lock()
_present = 0  # trainings inside placed() now
_holder: int | None = None  # native id of the training thread that is placed, if one is
_restore: set[int] = set()  # the CPUs that thread and the worker may use again after
_found: tuple | None | bool = False  # (OpenBLAS's controller, its setaffinity); None: none


@contextlib.contextmanager
def placed(two_blas_threads: bool) -> Iterator[None]:
    """Enter in a training's thread, around its training, inside its BLAS thread limit.

    ``two_blas_threads``: its steps run BLAS on two threads (the NumPy engine from
    BLAS_PAIR_FROM rows). Such a training, alone in the process, is placed (above); a
    training that comes while one is placed gives that one's threads every core back
    at once.
    """
    global _present
    with _lock:
        _present += 1
        if _present == 1 and two_blas_threads:
            _place()
        elif _present > 1:
            _release()
    try:
        yield
    finally:
        let_go()
        with _lock:
            _present -= 1


def let_go() -> None:
    """(In a training thread) give its thread and OpenBLAS's worker every core back, if it
    is the placed one; otherwise nothing."""
    with _lock:
        if _holder == threading.get_native_id():
            _release()


def _place() -> None:
    """(Holding the lock) this thread onto the CPU it runs on, OpenBLAS's worker onto the
    others; nothing where that cannot be done."""
    global _holder, _restore
    cpus = os.sched_getaffinity(0)
    here = _current_cpu()
    if here is None or here not in cpus or len(cpus) < 2 or _openblas() is None:
        return
    _holder, _restore = threading.get_native_id(), cpus
    os.sched_setaffinity(0, {here})  # 0: the calling thread (Linux affinity is per thread)
    _set_workers(cpus - {here})


def _release() -> None:
    """(Holding the lock) the placed thread, from whichever thread, and the worker back onto
    the CPUs they had."""
    global _holder
    if _holder is None:
        return
    with contextlib.suppress(OSError):  # the thread has ended
        os.sched_setaffinity(_holder, _restore)
    _set_workers(_restore)
    _holder = None


def _current_cpu() -> int | None:
    """The CPU this thread runs on now (field 39 of /proc/thread-self/stat), None if unknown."""
    try:
        with open("/proc/thread-self/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[36])
    except (OSError, ValueError, IndexError):
        return None


def _set_workers(cpus: set[int]) -> None:
    """OpenBLAS's first worker thread (the one a two-thread product uses) onto ``cpus``.

    ``openblas_setaffinity`` takes only the workers the current thread limit uses; the
    limit is one setting for the whole process, and another training may have lowered
    it meanwhile, so it is raised to two for the call, then put back.
    """
    openblas = _openblas()
    if openblas is None:
        return
    library, setaffinity = openblas
    words = max(cpus, default=0) // 64 + 1
    mask = (ctypes.c_ulong * words)()
    for cpu in cpus:
        mask[cpu // 64] |= 1 << (cpu % 64)
    limit = library.num_threads
    if limit < 2:
        library.set_num_threads(2)
    try:
        setaffinity(0, ctypes.sizeof(mask), ctypes.byref(mask))  # index 1: the calling thread
    finally:
        if limit < 2:
            library.set_num_threads(limit)


def _openblas() -> tuple | None:
    """(threadpoolctl's controller of NumPy's OpenBLAS, its ``openblas_setaffinity``), found
    once; None with another BLAS, or an OpenBLAS without that function."""
    global _found
    if _found is False:
        _found = None
        from threadpoolctl import ThreadpoolController

        for library in ThreadpoolController().lib_controllers:
            function = getattr(getattr(library, "dynlib", None), "openblas_setaffinity", None)
            if library.internal_api == "openblas" and function is not None:
                function.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p]
                function.restype = ctypes.c_int
                _found = (library, function)
                break
    return _found
