"""Surface-run streaming: steps per second delivered to a client, and `set` round trips.

Starts a real gdviz server on a free loopback port (its own process) and talks to
it with the ``websockets`` client, as a browser would.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import websockets


@contextmanager
def running_server(env: dict[str, str] | None = None) -> Iterator[str]:
    """``gdviz serve`` in its own process on a free loopback port; yields its ws:// URL.

    A separate process, as for a browser: a server thread inside the measuring
    process would share its GIL with the client and measure the contention instead.
    ``env``: extra environment variables for it (``GDVIZ_ENGINE``).
    """
    with server_process(env=env) as (url, _):
        yield url


@contextmanager
def server_process(
    workers: int = 1, env: dict[str, str] | None = None
) -> Iterator[tuple[str, int]]:
    """``gdviz serve --workers N`` on a free loopback port; yields (ws:// URL, its pid)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    command = [sys.executable, "-m", "app", "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/surfaces", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise RuntimeError("gdviz serve did not start") from None
                time.sleep(0.1)
        wait_until_idle(server.pid)
        yield f"ws://127.0.0.1:{port}", server.pid
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_until_idle(*pids: int, timeout: float = 60.0) -> None:
    """Wait until these processes are idle: a server's start-up work (it compiles or loads
    the training kernel in a background thread) or the tail of a training done, not
    counted in the next measurement."""
    stats = [Path(f"/proc/{pid}/stat") for pid in pids]
    if not all(stat.exists() for stat in stats):  # not Linux: a fixed pause instead
        time.sleep(3)
        return

    def cpu_seconds() -> float:
        ticks = 0
        for stat in stats:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    deadline, before = time.monotonic() + timeout, cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.25)
        now = cpu_seconds()
        if now - before < 0.02:  # under 8 % of a core: idle
            return
        before = now


LONG_RUN = {
    "type": "start",
    "surface": "himmelblau",
    "speed": 0,
    "max_steps": 1_000_000,
    "runs": [{"id": "a", "start": [-4.5, 4.5], "lr": 1e-7}],
}


class AckingClient:
    """Receives as the page does: every message handled is acknowledged (app.web.flow).

    It parses with orjson, native code like a browser's ``JSON.parse``: Python's
    ``json`` would make this client, not the server, the bottleneck.
    """

    def __init__(self, ws) -> None:
        self.ws = ws
        self.received = 0

    async def recv(self) -> dict:
        message = orjson.loads(await self.ws.recv())
        self.received += 1
        await self.ws.send(f'{{"type":"ack","received":{self.received}}}')
        return message


async def steps_per_second(url: str, seconds: float = 2.0) -> float:
    """Steps received per second from one full-speed run (after a short warm-up).

    The client's objects are frozen out of the garbage collector's way first: in
    ``python -m benchmarks`` it has PyTorch loaded, and a full collection walking
    its objects stalled the client, not the server (186k steps/s, 290k+ without).
    """
    gc.freeze()
    async with websockets.connect(url + "/ws/descent", compression=None, max_size=None) as ws:
        await ws.send(json.dumps(LONG_RUN))
        client = AckingClient(ws)
        count, started, expected = 0, None, 0
        deadline = time.perf_counter() + seconds + 0.5
        while time.perf_counter() < deadline:
            message = await client.recv()
            if message["type"] == "status" and message["state"] != "running":
                break  # the run reached max_steps: nothing more will come
            if message["type"] != "steps":
                continue
            if started is None and time.perf_counter() > deadline - seconds:
                started = time.perf_counter()
            steps = message["steps"]
            if steps[0]["i"] != expected or steps[-1]["i"] != expected + len(steps) - 1:
                raise RuntimeError(f"steps lost: expected step {expected}, got {steps[0]['i']}")
            expected += len(steps)
            if started is not None:
                count += len(steps)
        return count / (time.perf_counter() - started)


async def set_round_trips(url: str, trials: int = 200) -> list[float]:
    """Milliseconds from sending `set` to seeing the first step with the new lr.

    The client's own start-up objects are frozen out of the garbage collector's way
    (as the server does), so a full collection here does not count as server lag.
    """
    gc.freeze()
    times = []
    async with websockets.connect(url + "/ws/descent", compression=None, max_size=None) as ws:
        client = AckingClient(ws)
        for trial in range(trials):
            if trial % 20 == 0:  # a fresh run before this one could reach its step limit
                await ws.send(json.dumps(LONG_RUN))
            await asyncio.sleep(0.02)
            lr = 1e-7 * (1 + (trial + 1) / 1000)
            sent = time.perf_counter()
            await ws.send(json.dumps({"type": "set", "lr": lr}))
            while True:
                message = await client.recv()
                if message["type"] == "steps" and any(s["lr"] == lr for s in message["steps"]):
                    times.append((time.perf_counter() - sent) * 1000)
                    break
    return times


def measure(repeats: int = 3) -> dict:
    """Medians over ``repeats`` runs of the streaming figures."""
    with running_server() as url:
        rates = [asyncio.run(steps_per_second(url)) for _ in range(repeats)]
        trips = asyncio.run(set_round_trips(url))
    trips.sort()
    return {
        "surface_steps_per_second": statistics.median(rates),
        "set_round_trip_ms_p50": statistics.median(trips),
        "set_round_trip_ms_p99": trips[min(len(trips) - 1, int(0.99 * len(trips)))],
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
