"""gdviz: a web-based gradient descent visualizer.

Two process-wide settings are made here, before anything imports NumPy or Numba
(whose thread pools read them once, as they load). The first is
``OPENBLAS_THREAD_TIMEOUT``. After every
product, OpenBLAS's idle worker threads spin for 2^28 CPU cycles (~0.1 s) before
they sleep. A training at batch ≥ 64 runs its products on two threads, so the
second core stayed busy the whole training, and ~0.1 s after it, spinning through
every gap: the small operations between products, the waits for the page — taking
the core from the event loop and from the browser drawing the page on the same
machine (and, in ``python -m benchmarks``, from the next trainer measured: that
made PyTorch's figures up to 1.7× slower than its own). 2^22 cycles (~1.5 ms) spans
the gaps inside a step and between steps, so the workers are awake whenever a
product comes; 2^18 (~0.1 ms) was too short on a busy machine: workers asleep at
every step, woken late, and a training's time spread out to 3× (python -m
benchmarks). The second is ``GOMP_SPINCOUNT``, the same for the OpenMP threads the
Numba engine splits a step over (app.mnist.fast.kernel): by default they spin
300,000 rounds (~10 ms here) after each step; 30,000 (1.5–4 ms) still spans the gap
between two steps. A value the user sets wins.
"""

import os

__version__ = "0.1.0"

#: log2 of the CPU cycles an idle OpenBLAS thread spins before it sleeps (OpenBLAS: 28)
OPENBLAS_SPIN = "22"

#: rounds an idle OpenMP thread spins before it sleeps (GNU OpenMP: 300,000)
OPENMP_SPIN = "30000"

os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", OPENBLAS_SPIN)
os.environ.setdefault("GOMP_SPINCOUNT", OPENMP_SPIN)
