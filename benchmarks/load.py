"""Load test on loopback: many descent streams and a few trainings at once, then churn.

``python -m benchmarks.load [--seconds 60] [--descent 50] [--training 4] [--workers 1 2]``

For each worker count it starts ``gdviz serve --workers N`` on a free loopback
port and, for the given time, runs the descent clients (each a full-speed-paced
surface run at 60 steps/s, restarted when it ends) beside the training clients,
then opens and drops connections ``--cycles`` times.  It reports errors (must be
0), the gaps between frames the descent clients saw (p50/p99), the server's CPU
time and its peak memory (all worker processes).  Bounded in time and count; it
talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time
from pathlib import Path

import websockets

from benchmarks.stream import server_process


def process_tree(pid: int) -> list[int]:
    """The server process and its worker processes."""
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split()
        for child in children:
            pids += process_tree(int(child))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return total


def peak_memory_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1])
    return total / 1024


async def descent_client(url: str, until: float, gaps: list[float], errors: list[str]) -> None:
    start = {"type": "start", "surface": "rosenbrock", "speed": 60, "max_steps": 100_000}
    async with websockets.connect(url + "/ws/descent", compression=None) as ws:
        await ws.send(json.dumps(start))
        last = None
        while time.monotonic() < until:
            message = json.loads(await ws.recv())
            if message["type"] == "error":
                errors.append(message["message"])
            elif message["type"] == "steps":
                now = time.monotonic()
                if last is not None:
                    gaps.append((now - last) * 1000)
                last = now
            elif message["type"] == "status" and message["state"] not in ("running", "paused"):
                await ws.send(json.dumps(start))


async def training_client(url: str, until: float, errors: list[str]) -> None:
    async with websockets.connect(url + "/ws/train", compression=None, max_size=None) as ws:
        start = json.dumps({"type": "start", "epochs": 1000})
        await ws.send(start)
        while time.monotonic() < until:
            message = json.loads(await ws.recv())
            if message["type"] == "error":
                errors.append(message["message"])
            elif message["type"] == "status" and message["state"] in ("finished", "stopped"):
                await ws.send(start)  # the compiled kernel trains 1,000 epochs within the minute


async def churn(url: str, cycles: int, errors: list[str]) -> float:
    started = time.monotonic()
    for k in range(cycles):
        path = "/ws/train" if k % 10 == 0 else "/ws/descent"
        try:
            async with websockets.connect(url + path, compression=None) as ws:
                extra = {"epochs": 1000} if path == "/ws/train" else {}
                await ws.send(json.dumps({"type": "start", **extra}))
                reply = json.loads(await ws.recv())
                if reply["type"] == "error":
                    errors.append(f"{path}: {reply['message']}")
        except Exception as problem:  # every failure counts as an error in the report
            errors.append(f"{path}: {problem}")
    return time.monotonic() - started


async def scenario(url: str, args) -> dict:
    errors: list[str] = []
    gaps: list[float] = []
    until = time.monotonic() + args.seconds
    clients = [descent_client(url, until, gaps, errors) for _ in range(args.descent)]
    clients += [training_client(url, until, errors) for _ in range(args.training)]
    await asyncio.gather(*clients)
    churn_seconds = await churn(url, args.cycles, errors)
    gaps.sort()
    return {
        "errors": len(errors),
        "first_errors": errors[:3],
        "frames": len(gaps),
        "frame_gap_ms_p50": statistics.median(gaps) if gaps else None,
        "frame_gap_ms_p99": gaps[int(0.99 * (len(gaps) - 1))] if gaps else None,
        "churn_cycles": args.cycles,
        "churn_seconds": churn_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--descent", type=int, default=50)
    parser.add_argument("--training", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=500)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    report = {}
    for workers in args.workers:
        with server_process(workers) as (url, pid):
            pids = process_tree(pid)
            cpu_before = cpu_seconds(pids)
            result = asyncio.run(scenario(url, args))
            result["server_cpu_seconds"] = cpu_seconds(pids) - cpu_before
            result["server_peak_memory_mb"] = peak_memory_mb(pids)
        report[f"{workers} worker(s)"] = result
        print(json.dumps({f"{workers} worker(s)": result}, indent=2), flush=True)


if __name__ == "__main__":
    main()
