"""Training throughput of the 784-16-16-10 network: gdviz against its references, one run.

Every trainer sees the same 60,000 float32 samples (the real digits tiled up to
60,000 when only the offline sample is available, otherwise random pixels of the
same shape: the arithmetic is identical either way), the quadratic cost, sigmoid,
plain gradient descent, BLAS pinned to one thread.  Figures are medians of
several timed runs after a warm-up.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_limits

from benchmarks import references

EPOCH = 60_000


def epoch_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, one-hot y, labels) for one 60,000-sample epoch."""
    try:
        from app.mnist.data import load_mnist

        data = load_mnist()
        reps = -(-EPOCH // len(data.x_train))
        x = np.tile(data.x_train, (reps, 1))[:EPOCH]
        labels = np.tile(data.y_train, reps)[:EPOCH]
    except Exception:  # no data at all: same shapes, same arithmetic
        rng = np.random.default_rng(seed)
        x = rng.random((EPOCH, 784), dtype=np.float32)
        labels = rng.integers(0, 10, EPOCH)
    y = np.eye(10, dtype=np.float32)[labels]
    return np.ascontiguousarray(x, dtype=np.float32), y, labels


def median_time(run: Callable[[], None], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def matmul_peak(repeats: int = 7) -> float:
    """float32 GFLOP/s of a large single-threaded matmul: the machine's practical ceiling."""
    rng = np.random.default_rng(0)
    a = rng.random((1024, 1024), dtype=np.float32)
    b = rng.random((1024, 1024), dtype=np.float32)
    seconds = median_time(lambda: a @ b, repeats, warmup=2)
    return 2 * 1024**3 / seconds / 1e9


def reference_epoch(kind: str, x, y, batch: int, repeats: int) -> float:
    """Seconds per 60,000 samples for one of the reference trainers."""
    weights, biases = references.initial_parameters()
    if kind == "per_sample":  # 2.5 s an epoch: time a tenth, scale up
        part = EPOCH // 10
        return 10 * median_time(
            lambda: references.per_sample_epoch(x[:part], y[:part], batch, 0.1, weights, biases),
            max(1, repeats // 4),
        )
    if kind == "vectorised":
        return median_time(
            lambda: references.vectorised_epoch(x, y, batch, 0.1, weights, biases), repeats
        )
    run = references.torch_epoch_factory()
    return median_time(lambda: run(x, y, batch, 0.1), repeats)


def gdviz_epoch(x, labels, batch: int, repeats: int) -> float:
    """Seconds per 60,000 samples for gdviz's Trainer, headless (epoch-end evaluation included)."""
    from app.mnist.data import Dataset
    from app.mnist.training import TrainConfig, Trainer

    data = Dataset(x, labels, x[:1000], labels[:1000], "benchmark")

    def run():
        config = TrainConfig(batch_size=batch, epochs=1, lr=0.1, eval_every=10**9)
        trainer = Trainer(config, data)
        while not trainer.done:
            trainer.run(trainer.steps_per_epoch - trainer.step)  # skips the epoch-end eval

    return median_time(run, repeats)


def measure(batches=(10, 32, 128, 1000), repeats: int = 5, torch: bool = True) -> dict:
    """All training figures, one run, BLAS on one thread."""
    x, y, labels = epoch_data()
    results: dict = {"batches": {}}
    with threadpool_limits(1):
        results["matmul_gflops"] = matmul_peak()
        for batch in batches:
            row = {
                "per_sample_s": reference_epoch("per_sample", x, y, batch, repeats),
                "vectorised_numpy_s": reference_epoch("vectorised", x, y, batch, repeats),
                "gdviz_headless_s": gdviz_epoch(x, labels, batch, repeats),
            }
            if torch:
                try:
                    row["torch_s"] = reference_epoch("torch", x, y, batch, repeats)
                except ImportError:
                    torch = False
            results["batches"][batch] = row
    flops_per_sample = 2 * (784 * 16 + 16 * 16 + 16 * 10) * 3 - 2 * 784 * 16
    results["flops_per_sample"] = flops_per_sample
    return results
