"""``python -m benchmarks``: every speed figure of the README, side by side, in one run.

Prints a table of medians and ratios and writes it as JSON (``benchmarks/results/``).
PyTorch is compared when it is installed (``pip install torch==2.13.0``); otherwise
that column says so.  Options: ``--quick`` (fewer repeats), ``--no-torch``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from benchmarks import stream, training

RESULTS = Path(__file__).resolve().parent / "results"


async def _train_over_socket(url: str, batch: int, epochs: int) -> float:
    """Seconds from `start` to `finished` for a training streamed to this client."""
    import websockets

    async with websockets.connect(url + "/ws/train", compression=None, max_size=None) as ws:
        start = {"type": "start", "batch_size": batch, "epochs": epochs, "lr": 0.1}
        await ws.send(json.dumps(start))
        began = None
        while True:
            message = json.loads(await ws.recv())
            if message["type"] == "status" and message["state"] == "running":
                began = time.perf_counter()  # data loaded, network built: training starts
            if message["type"] == "status" and message["state"] in ("finished", "stopped"):
                return time.perf_counter() - began


def end_to_end(batches, repeats: int, torch: bool) -> dict:
    """Seconds per 60,000 samples trained over /ws/train, streaming and evaluation included.

    PyTorch trains in turns with it (an epoch here, a training there), so that its
    ratio compares runs made at the same moment of a shared, noisy machine.
    """
    from threadpoolctl import threadpool_limits

    from app.mnist.data import load_mnist

    n_train = len(load_mnist().y_train)
    epochs = max(1, round(training.EPOCH / n_train))
    x, y, _ = training.epoch_data()
    results = {}
    with stream.running_server() as url:
        for batch in batches:

            def over_socket(batch: int = batch) -> float:
                seconds = asyncio.run(_train_over_socket(url, batch, epochs))
                return seconds * training.EPOCH / (epochs * n_train)

            runs = {"ws_s": over_socket}
            if torch:
                runs["torch_s"] = training.torch_trainer(x, y, batch)
            with threadpool_limits(1):
                results[batch] = training.interleaved_medians(runs, repeats)
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
        "seconds per 60,000 samples (784-16-16-10 sigmoid, quadratic, gd), medians:",
        f"{'batch':>6} {'per-sample':>11} {'PyTorch':>9} {'NumPy':>8} {'gdviz':>8} "
        f"{'gdviz /ws':>10} {'×torch':>7} {'×torch /ws':>10} {'% peak':>7}",
    ]
    flops = results["training"]["flops_per_sample"] * training.EPOCH
    peak = results["training"]["matmul_gflops"] * 1e9
    for batch, row in results["training"]["batches"].items():
        torch = row.get("torch_s")
        e2e = results["end_to_end_s"].get(batch) or results["end_to_end_s"].get(int(batch))
        ws, ws_torch = e2e["ws_s"], e2e.get("torch_s")
        lines.append(
            f"{batch:>6} {row['per_sample_s']:>11.3f} {torch or float('nan'):>9.3f} "
            f"{row['vectorised_numpy_s']:>8.3f} {row['gdviz_headless_s']:>8.3f} {ws:>10.3f} "
            f"{(torch / row['gdviz_headless_s']) if torch else float('nan'):>7.2f} "
            f"{(ws_torch / ws) if ws_torch else float('nan'):>10.2f} "
            f"{100 * flops / row['gdviz_headless_s'] / peak:>6.0f}%"
        )
    s = results["stream"]
    lines += [
        "",
        "surface run at speed 0 delivered to a client: "
        f"{s['surface_steps_per_second']:,.0f} steps/s",
        f"`set` round trip while streaming: p50 {s['set_round_trip_ms_p50']:.1f} ms, "
        f"p99 {s['set_round_trip_ms_p99']:.1f} ms",
        "classify a 280×280 canvas (server time: parse, check, classify): "
        f"{results['classify_ms']['gray8']:.2f} ms as gray8 bytes (the page), "
        f"{results['classify_ms']['pixels']:.2f} ms as a list of numbers",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch column")
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
        "end_to_end_s": end_to_end(batches, max(3, repeats // 2), use_torch),
        "stream": stream.measure(repeats=max(3, repeats // 2)),
        "classify_ms": classify_time(),
    }
    print(table(results))
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"benchmarks-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(results, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
