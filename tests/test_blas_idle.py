"""After its products, a gdviz process leaves the CPU alone (app/__init__.py's OpenBLAS setting).

OpenBLAS's idle worker threads used to spin ~0.1 s after every product: a core
taken from the event loop and the browser all through a training at batch ≥ 64.
The check is the CPU a process burns while it sleeps just after two-thread
products; the same script with OpenBLAS's own default shows that it would see it.
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
