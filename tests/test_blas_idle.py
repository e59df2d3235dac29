"""After its products, a gdviz process leaves the CPU alone (app/__init__.py's settings).

OpenBLAS's idle worker threads used to spin ~0.1 s after every product: a core
taken from the event loop and the browser all through a training at batch ≥ 64;
GNU OpenMP's, which the Numba engine splits its steps over, ~10 ms.
The check is the CPU a process burns while it sleeps just after two-thread
products; the same script with the libraries' own defaults shows that it would see it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SCRIPT = """
import {first}
import time
import numpy as np
from threadpoolctl import threadpool_limits

x = np.ones((1000, 784), np.float32)
w = np.ones((784, 16), np.float32)
with threadpool_limits(2, user_api="blas"):
    for _ in range(50):
        x @ w
    start = time.process_time()
    time.sleep(0.3)
    print(time.process_time() - start)
"""

pytestmark = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2 or not sys.platform.startswith("linux"),
    reason="OpenBLAS runs one thread on one core: nothing can spin beside it",
)


def cpu_while_sleeping(first: str, timeout: str | None) -> float:
    """CPU seconds a fresh process spends in the 0.3 s after its products."""
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_THREAD_TIMEOUT"}
    if timeout is not None:
        env["OPENBLAS_THREAD_TIMEOUT"] = timeout
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(first=first)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    return float(result.stdout)


def test_a_gdviz_process_does_not_spin_after_its_products():
    assert cpu_while_sleeping("app", None) < 0.03


def test_openblas_default_would_spin_and_the_check_would_see_it():
    # numpy first and OpenBLAS's own 2^28 cycles: the worker spins on through the sleep
    assert cpu_while_sleeping("numpy", "28") > 0.05


def test_a_value_the_user_sets_wins():
    assert cpu_while_sleeping("app", "28") > 0.05


SPLIT_STEPS = """
import app
import time
import numpy as np
from app.mnist.fast.kernel import NumbaKernel
from app.mnist.network import Network

net = Network((784, 16, 16, 10))
kernel, grad = NumbaKernel(net, threads=2), np.zeros_like(net.flat)
x = np.random.default_rng(0).random((1000, 784), dtype=np.float32)
y = np.eye(10, dtype=np.float32)[np.arange(1000) % 10]
for _ in range(20):
    kernel.backprop(x, y, np.arange(1000), grad)
start = time.process_time()
time.sleep(0.3)
print(time.process_time() - start)
"""


def cpu_after_split_steps(spin: str | None) -> float:
    """CPU seconds a fresh process spends in the 0.3 s after the Numba engine's split steps."""
    pytest.importorskip("numba", reason='the Numba engine: pip install "gdviz[fast]"')
    env = {k: v for k, v in os.environ.items() if k != "GOMP_SPINCOUNT"}
    if spin is not None:
        env["GOMP_SPINCOUNT"] = spin
    result = subprocess.run(
        [sys.executable, "-c", SPLIT_STEPS], capture_output=True, text=True, env=env,
        timeout=120, check=True,
    )  # fmt: skip
    return float(result.stdout)


def test_the_numba_engines_threads_do_not_spin_long_after_a_split_step():
    # 30,000 rounds: 1.5-4 ms measured here; GNU OpenMP's own 300,000 rounds: 8-12 ms
    assert cpu_after_split_steps(None) < 0.006


def test_openmp_spinning_longer_would_show():
    # 30 million rounds: ~1 s of spinning, all through the sleep
    assert cpu_after_split_steps("30000000") > 0.05
