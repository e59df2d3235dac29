"""``python -m benchmarks.landscape``: how long one landscape of the digit network takes.

A 41×41 grid over the first 1,000 test digits around a network trained for 2 epochs
(gdviz train's settings otherwise), both planes (``pca``, ``random``): medians of
``--repeats`` runs of ``app.mnist.landscape.landscape`` — the whole reply, directions
and path included. For scale, the same grid the obvious way (one full forward pass
per cell through ``Network.cost``) is timed once with ``--naive``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from app.mnist.data import load_mnist
from app.mnist.landscape import design_order, landscape
from app.mnist.network import Network
from app.mnist.training import TrainConfig, Trainer

N, SAMPLES = 41, 1000


def trained() -> tuple[Trainer, list[np.ndarray]]:
    """A network trained for 2 epochs, with its parameters at every evaluation."""
    trainer = Trainer(TrainConfig(epochs=2, eval_every=100), load_mnist())
    path = [trainer.network.flat.copy()]
    while not trainer.done:
        chunk = trainer.run(100, defer_evaluations=True)
        path += [s.flat for s in chunk.snapshots]
    return trainer, path


def naive_seconds(trainer: Trainer, result: dict, d1: np.ndarray, d2: np.ndarray) -> float:
    """The grid cell by cell, each a full forward pass of a moved network."""
    net = trainer.network
    moved = Network(net.sizes, net.activation, net.cost_name)
    x, y = trainer.x_test[:SAMPLES], trainer.onehot_test[:SAMPLES]
    started = time.perf_counter()
    for b in result["b"]:
        for a in result["a"]:
            moved.flat[...] = net.flat + a * d1 + b * d2
            moved.cost(x, y)
    return time.perf_counter() - started


def measure(repeats: int, naive: bool) -> dict:
    trainer, path = trained()
    x, y = trainer.x_test[:SAMPLES], trainer.onehot_test[:SAMPLES]
    results: dict = {"grid": f"{N}x{N}", "samples": len(x), "path_points": len(path)}
    for method in ("pca", "random"):
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            reply = landscape(trainer.network, trainer.network.flat, path, x, y, N, 1.0, method,
                              directions=True)  # fmt: skip
            times.append(time.perf_counter() - started)
        results[f"{method}_seconds_median"] = round(statistics.median(times), 3)
        results[f"{method}_seconds_min"] = round(min(times), 3)
    if naive:
        d = [np.empty(trainer.network.parameter_count) for _ in range(2)]
        index = design_order(trainer.network.sizes)  # the reply's order back to Network.flat's
        d[0][index], d[1][index] = reply["d1"], reply["d2"]
        results["naive_loop_seconds"] = round(naive_seconds(trainer, reply, *d), 3)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--naive", action="store_true", help="also time a cell-by-cell loop")
    args = parser.parse_args()
    print(json.dumps(measure(args.repeats, args.naive), indent=2))


if __name__ == "__main__":
    main()
