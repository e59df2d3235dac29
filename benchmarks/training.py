"""Training throughput of the 784-16-16-10 network: gdviz against its references, one run.

Every trainer sees the same 60,000 float32 samples (the real digits tiled up to
60,000 when only the offline sample is available, otherwise random pixels of the
same shape: the arithmetic is identical either way), the quadratic cost, sigmoid,
plain gradient descent.  gdviz runs each engine inside ``Trainer.threads()`` (the
BLAS threads it chooses), the plain NumPy references with BLAS on one thread,
PyTorch on its default threads.  Figures are medians of several timed runs after
a warm-up.
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


def timed(run: Callable[[], None], scale: float = 1.0) -> Callable[[], float]:
    """``run`` as a function returning its seconds (times ``scale``)."""

    def once() -> float:
        start = time.perf_counter()
        run()
        return (time.perf_counter() - start) * scale

    return once


def evaluation_parts(data) -> tuple[np.ndarray, ...]:
    """What gdviz evaluates: (training part, its one-hot, test inputs, their one-hot)."""
    from app.mnist.training import TRAIN_EVAL_SAMPLES

    n = min(len(data.y_train), len(data.y_test) or len(data.y_train), TRAIN_EVAL_SAMPLES)
    onehot = np.eye(10, dtype=np.float32)
    return data.x_train[:n], onehot[data.y_train[:n]], data.x_test, onehot[data.y_test]


def torch_trainer(x, y, batch: int, evaluation=None) -> Callable[[], float]:
    """PyTorch's epoch as a timed function (seconds per 60,000): default threads, and an
    evaluation per 4,000 samples when ``evaluation`` (``evaluation_parts``) is given."""
    run = references.torch_epoch_factory(evaluation=evaluation)
    return timed(lambda: run(x, y, batch, 0.1))


def _one_blas_thread(run: Callable[[], None]) -> Callable[[], None]:
    def limited() -> None:
        with threadpool_limits(1, user_api="blas"):
            run()

    return limited


def trainers(
    x, y, labels, batch: int, torch: bool, engines=("numpy", "numba")
) -> dict[str, Callable[[], float]]:
    """Each trainer as a function that trains one epoch and returns its seconds per 60,000."""
    from app.mnist.data import Dataset
    from app.mnist.training import TrainConfig, Trainer

    weights, biases = references.initial_parameters()
    data = Dataset(x, labels, x[:1000], labels[:1000], "benchmark")
    part = EPOCH // 10

    def gdviz(engine: str) -> Callable[[], None]:  # headless, the epoch-end evaluation included
        def run() -> None:
            config = TrainConfig(batch_size=batch, epochs=1, lr=0.1, eval_every=10**9)
            trainer = Trainer(config, data, engine=engine)
            with trainer.threads():
                trainer.run(EPOCH)

        return run

    runs = {
        # 2.5 s an epoch: time a tenth, scale up
        "per_sample_s": timed(
            _one_blas_thread(
                lambda: references.per_sample_epoch(x[:part], y[:part], batch, 0.1, weights, biases)
            ),
            10.0,
        ),
        "vectorised_numpy_s": timed(
            _one_blas_thread(lambda: references.vectorised_epoch(x, y, batch, 0.1, weights, biases))
        ),
    }
    for engine in engines:
        runs[f"{engine}_s"] = timed(gdviz(engine))
    if torch:
        runs["torch_s"] = torch_trainer(x, y, batch)
    return runs


def interleaved_medians(
    runs: dict[str, Callable[[], float]],
    repeats: int,
    settle: Callable[[], None] = lambda: None,
) -> dict[str, float]:
    """Median of ``repeats`` timings of each, taken in turns (A B C A B C …) after a warm-up.

    In turns, so that a machine that slows down mid-run (shared, noisy) slows every
    trainer alike and the ratios between them hold. ``settle()`` is called before every
    run, untimed (waiting for servers to go idle).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for run in runs.values():
        settle()
        run()  # warm-up
    for _ in range(repeats):
        for name, run in runs.items():
            settle()
            times[name].append(run())
    return {name: statistics.median(values) for name, values in times.items()}


def measure(batches=(10, 32, 128, 1000), repeats: int = 5, torch: bool = True) -> dict:
    """All headless training figures, one run."""
    x, y, labels = epoch_data()
    results: dict = {"batches": {}}
    if torch:
        try:
            import torch as _  # noqa: F401
        except ImportError:
            torch = False
    with threadpool_limits(1, user_api="blas"):
        results["matmul_gflops"] = matmul_peak()
    for batch in batches:
        runs = trainers(x, y, labels, batch, torch)
        results["batches"][batch] = interleaved_medians(runs, repeats)
    flops_per_sample = 2 * (784 * 16 + 16 * 16 + 16 * 10) * 3 - 2 * 784 * 16
    results["flops_per_sample"] = flops_per_sample
    return results
