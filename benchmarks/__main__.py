"""``python -m benchmarks``: every speed figure of the README, side by side, in one run.

Prints a table of medians and ratios and writes it as JSON (``benchmarks/results/``).
PyTorch is compared when it is installed (``pip install torch==2.13.0``); otherwise
that column says so.  Options: ``--quick`` (fewer repeats), ``--no-torch``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks import basins, browser_stream, landscape, references, stream, training

RESULTS = Path(__file__).resolve().parent / "results"
ENGINES = ("numpy", "numba")


def eval_every(batch: int, n_train: int) -> int:
    """The steps between evaluations that make one per 4,000 samples, as PyTorch does.

    Every epoch's end evaluates: with epochs of at most 4,000 digits (the offline
    sample) those are enough, and steps between would add evaluations off the epochs'
    ends (4000 // batch did: ~31 at batch 128, ~19 at 1000, against PyTorch's 15).
    Otherwise ceil(4000 / batch) steps, at least the 10 that the server accepts.
    """
    if n_train <= references.EVAL_SAMPLES:
        return 10**9
    return max(10, -(-references.EVAL_SAMPLES // batch))


async def _train_over_socket(url: str, batch: int, epochs: int, n_train: int) -> float:
    """Seconds from `start` to `finished` for a training streamed to this client."""
    import websockets

    async with websockets.connect(url + "/ws/train", compression=None, max_size=None) as ws:
        every = eval_every(batch, n_train)
        start = {
            "type": "start",
            "batch_size": batch,
            "epochs": epochs,
            "lr": 0.1,
            "eval_every": every,
        }
        await ws.send(json.dumps(start))
        began = None
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "error":  # a refused start would otherwise wait forever
                raise RuntimeError(f"the server refused the training: {message['message']}")
            if message["type"] == "status" and message["state"] == "running":
                began = time.perf_counter()  # data loaded, network built: training starts
            if message["type"] == "status" and message["state"] in ("finished", "stopped"):
                return time.perf_counter() - began


def end_to_end(batches, repeats: int, torch: bool, engines=ENGINES) -> dict:
    """Seconds per 60,000 samples trained over /ws/train, streaming and evaluation included.

    One server per engine (``GDVIZ_ENGINE``), both up at once. PyTorch, with its
    default threads and an evaluation per 4,000 samples (DESIGN.md's yardstick), trains
    in turns with them (a training of each, then again), so that its ratios compare runs
    made at the same moment of a shared, noisy machine. Each run starts once every
    server is idle: what a server does after its training (OpenBLAS threads spinning,
    before app/__init__.py's setting, for ~0.1 s) would otherwise slow the next run.
    """
    from app.mnist.data import load_mnist

    data = load_mnist()
    n_train = len(data.y_train)
    epochs = max(1, round(training.EPOCH / n_train))
    x, y, _ = training.epoch_data()
    results = {}
    with contextlib.ExitStack() as stack:
        servers = {
            engine: stack.enter_context(stream.server_process(env={"GDVIZ_ENGINE": engine}))
            for engine in engines
        }
        urls = {engine: url for engine, (url, _) in servers.items()}
        pids = [pid for _, pid in servers.values()]
        for batch in batches:
            runs = {}
            for engine, url in urls.items():

                def over_socket(url: str = url, batch: int = batch) -> float:
                    seconds = asyncio.run(_train_over_socket(url, batch, epochs, n_train))
                    return seconds * training.EPOCH / (epochs * n_train)

                runs[f"{engine}_ws_s"] = over_socket
            if torch:
                parts = training.evaluation_parts(data)
                runs["torch_s"] = training.torch_trainer(x, y, batch, parts)
            settle = functools.partial(stream.wait_until_idle, *pids)
            results[batch] = training.interleaved_medians(runs, repeats, settle)
    return results


def classify_time(repeats: int = 50) -> dict[str, float]:
    """Median server time (ms) to answer a 280×280 classify message: parse, check, classify.

    Both forms of the canvas: ``gray8`` (base64 bytes, what the page sends) and the
    ``pixels`` list of gray levels.
    """
    import base64

    from app.mnist.classify import classify
    from app.mnist.data import load_mnist
    from app.mnist.network import Network
    from app.web.train_schemas import MAX_CLASSIFY_BYTES, train_messages
    from app.web.ws_common import parse_message

    image = np.kron(load_mnist().x_test[0].reshape(28, 28), np.ones((10, 10))).ravel()
    packed = base64.b64encode(np.rint(image * 255).astype(np.uint8).tobytes()).decode()
    forms = {
        "gray8": {"gray8": packed},
        "pixels": {"pixels": image.round(3).tolist()},
    }
    network = Network()
    result = {}
    for name, canvas in forms.items():
        raw = json.dumps({"type": "classify", "width": 280, "height": 280, **canvas})
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            message = parse_message(raw, train_messages, MAX_CLASSIFY_BYTES)
            classify(network, 280, 280, message.canvas())
            times.append(time.perf_counter() - started)
        result[name] = statistics.median(times) * 1000
    return result


def table(results: dict) -> str:
    lines = [
        f"machine: {results['machine']}",
        f"float32 matmul peak (1 thread): {results['training']['matmul_gflops']:.0f} GFLOP/s",
        "",
        "headless: seconds per 60,000 samples (784-16-16-10 sigmoid, quadratic, gd), medians,",
        "gdviz's engines inside Trainer.threads(), plain NumPy on one BLAS thread,",
        "PyTorch on its default threads, no evaluations:",
        f"{'batch':>6} {'per-sample':>11} {'PyTorch':>9} {'plain NumPy':>12} "
        + " ".join(f"{engine:>8} {'×torch':>7}" for engine in ENGINES),
    ]
    for batch, row in results["training"]["batches"].items():
        torch = row.get("torch_s") or float("nan")
        lines.append(
            f"{batch:>6} {row['per_sample_s']:>11.3f} {torch:>9.3f} "
            f"{row['vectorised_numpy_s']:>12.3f} "
            + " ".join(
                f"{row[f'{e}_s']:>8.3f} {torch / row[f'{e}_s']:>7.2f}"
                for e in ENGINES
                if f"{e}_s" in row
            )
        )
    lines += [
        "",
        "end to end over /ws/train (client start -> finished), seconds per 60,000 samples,",
        "PyTorch with its default threads and an evaluation per 4,000 samples, medians:",
        f"{'batch':>6} {'PyTorch':>9} "
        + " ".join(f"{e + ' /ws':>10} {'×torch':>7}" for e in ENGINES),
    ]
    for batch, row in results["end_to_end_s"].items():
        torch = row.get("torch_s") or float("nan")
        lines.append(
            f"{batch:>6} {torch:>9.3f} "
            + " ".join(
                f"{row[f'{e}_ws_s']:>10.3f} {torch / row[f'{e}_ws_s']:>7.2f}"
                for e in ENGINES
                if f"{e}_ws_s" in row
            )
        )
    s = results.get("stream")
    if s:
        lines += [
            "",
            "surface run at speed 0 delivered to a Python client: "
            f"{s['surface_steps_per_second']:,.0f} steps/s",
            f"`set` round trip while streaming: p50 {s['set_round_trip_ms_p50']:.1f} ms, "
            f"p99 {s['set_round_trip_ms_p99']:.1f} ms",
            *_tab_lines(results.get("browser_stream")),
            "classify a 280×280 canvas (server time: parse, check, classify): "
            f"{results['classify_ms']['gray8']:.2f} ms as gray8 bytes (the page), "
            f"{results['classify_ms']['pixels']:.2f} ms as a list of numbers",
            *_map_lines(results.get("basins"), results.get("landscape")),
        ]
    return "\n".join(lines)


def _map_lines(basin: dict | None, cost: dict | None) -> list[str]:
    """The surface lab's basin map and the digit lab's landscape (issues' targets 2 s, 1 s)."""
    lines = []
    if basin:
        lines.append(
            f"basin map, 200×200 starts on Himmelblau, gd, lr 0.01, 1,000 steps: "
            f"{basin['maths_s']:.2f} s (the route, JSON included: {basin['route_s']:.2f} s)"
        )
    if cost:
        lines.append(
            f"network landscape, {cost['grid']} over {cost['samples']:,} test digits: "
            f"{cost['pca_seconds_median']:.2f} s (PCA plane), "
            f"{cost['random_seconds_median']:.2f} s (filter-normalised random)"
        )
    return lines


def _tab_lines(tab: dict | None) -> list[str]:
    if not tab:
        return []
    return [
        "the same in a Chromium tab (the page's client, benchmarks.browser_stream): "
        f"{tab['tab_steps_per_s']:,.0f} steps/s,",
        f"  `set` round trip p50 {tab['tab_set_p50_ms']:.1f} ms, "
        f"p99 {tab['tab_set_p99_ms']:.1f} ms",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
    parser.add_argument(
        "--training-only", action="store_true", help="only the training figures (no streaming)"
    )
    args = parser.parse_args()
    repeats = 3 if args.quick else 7
    batches = (10, 32, 128, 1000)
    try:
        import torch  # noqa: F401

        use_torch = not args.no_torch
    except ImportError:
        print("PyTorch is not installed: its column is skipped (pip install torch==2.13.0)")
        use_torch = False
    results = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.system()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}",
        "training": training.measure(batches, repeats, torch=use_torch),
        "end_to_end_s": end_to_end(batches, repeats, use_torch),
    }
    if not args.training_only:
        results["stream"] = stream.measure(repeats=max(3, repeats // 2))
        results["browser_stream"] = browser_stream.measure(repeats=max(3, repeats // 2))
        results["classify_ms"] = classify_time()
        results["basins"] = basins.measure(repeats=max(3, repeats // 2))
        results["landscape"] = landscape.measure(max(3, repeats // 2), naive=False)
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"benchmarks-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
