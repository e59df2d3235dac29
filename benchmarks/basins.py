"""``python -m benchmarks.basins``: seconds for a basin map, as the page asks for one.

The issue's target: 200 × 200 starts on Himmelblau with ``gd``, lr 0.01, 1,000
steps in at most 2 s.  Times the maths alone (app.basins) and the whole route
(``GET /api/surfaces/himmelblau/basins`` through a TestClient, JSON included),
and prints the median of several runs of each.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

from app.basins import basin_map
from app.surfaces import SURFACES

CASE = {"n": 200, "optimizer": "gd", "lr": 0.01, "max_steps": 1000}


def _median_seconds(work, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), times


def measure(repeats: int = 7) -> dict[str, float]:
    """Median seconds of the maths and of the route for CASE on Himmelblau."""
    with warnings.catch_warnings():  # Starlette's note on httpx versus httpx2
        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

    from app.web.app import create_app

    surface = SURFACES["himmelblau"]
    maths, _ = _median_seconds(
        lambda: basin_map(
            surface, CASE["n"], CASE["optimizer"], CASE["lr"], None, CASE["max_steps"]
        ),
        repeats,
    )
    with TestClient(create_app()) as client:

        def request() -> None:
            response = client.get("/api/surfaces/himmelblau/basins", params=CASE)
            response.raise_for_status()

        route, _ = _median_seconds(request, repeats)
    result = basin_map(surface, CASE["n"], CASE["optimizer"], CASE["lr"], None, CASE["max_steps"])
    return {
        "maths_s": maths,
        "route_s": route,
        "mean_steps": float(result.steps.mean()),
        "max_steps_taken": int(result.steps.max()),
        "minima": len(result.minima),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    figures = measure(args.repeats)
    print(
        f"basin map, Himmelblau, 200×200 starts, gd, lr 0.01, ≤ 1,000 steps "
        f"(medians of {args.repeats}):\n"
        f"  maths (app.basins.basin_map)        {figures['maths_s']:.3f} s\n"
        f"  route (GET …/basins, JSON included) {figures['route_s']:.3f} s\n"
        f"  steps per start: mean {figures['mean_steps']:.1f}, "
        f"most {figures['max_steps_taken']}; minima found: {figures['minima']}"
    )


if __name__ == "__main__":
    main()
