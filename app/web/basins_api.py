"""``GET /api/surfaces/{name}/basins``: the basin map of a surface, as DESIGN.md gives it.

A sync handler: FastAPI runs it in its thread pool, off the event loop, so the
sockets keep streaming while a map computes.  The work is bounded: at most
200 × 200 starts of at most MAX_BASIN_STEPS updates each, and at most TIME_LIMIT
seconds (a slow formula with an optimizer that never settles could take minutes).
"""

from __future__ import annotations

import json
import math
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field

from app.basins import basin_map
from app.optimizers import POINT_OPTIMIZERS
from app.web.descent_schemas import MAX_LR
from app.web.surfaces_api import RouteSurface

router = APIRouter(prefix="/api/surfaces", tags=["surfaces"])

BASIN_MIN, BASIN_MAX, BASIN_DEFAULT = 2, 200, 100
MAX_BASIN_STEPS = 5000
TIME_LIMIT = 15.0  # seconds of computing per map, then a 422 that says what to lower

Pair = tuple[float, float]


class Basins(BaseModel):
    """Where each start of the grid ends: ``minimum[j][i]`` for the start (x[i], y[j])."""

    x: list[float]
    y: list[float]
    minimum: list[list[int]] = Field(
        description="index into minima; -1 reached max_steps; -2 diverged"
    )
    steps: list[list[int]] = Field(description="the updates each run took")
    minima: list[Pair] = Field(description="the distinct end points, deepest first")


@router.get("/{name}/basins", response_model=Basins)
def basins(
    surface: RouteSurface,
    n: Annotated[
        int, Query(ge=BASIN_MIN, le=BASIN_MAX, description="starts per axis (2 to 200)")
    ] = BASIN_DEFAULT,
    optimizer: Annotated[
        str, Query(description=f"one of: {', '.join(POINT_OPTIMIZERS)} (not the random ones)")
    ] = "gd",
    lr: Annotated[
        float | None, Query(gt=0, le=MAX_LR, description="default: the surface's")
    ] = None,
    max_steps: Annotated[
        int, Query(ge=1, le=MAX_BASIN_STEPS, description=f"1 to {MAX_BASIN_STEPS:,}")
    ] = 1000,
    hyper: Annotated[
        str | None, Query(description='JSON object, torch\'s names: {"momentum": 0.9}')
    ] = None,
) -> Basins:
    """Run descent from every start of an n × n grid over the domain, as /ws/descent would
    (for ``custom``: the typed formula's surface over xmin…ymax, default ±5)."""
    if lr is not None and not math.isfinite(lr):
        raise HTTPException(422, f"lr must be a finite number, not {lr}")
    try:
        result = basin_map(
            surface,
            n,
            optimizer,
            surface.default_lr if lr is None else lr,
            _hyper(hyper),
            max_steps,
            TIME_LIMIT,
        )
    except ValueError as problem:
        raise HTTPException(422, str(problem)) from None
    except TimeoutError as problem:
        raise HTTPException(
            422,
            f"this basin map needs more than {TIME_LIMIT:g} s ({problem}): "
            "ask for fewer starts (n) or steps (max_steps)",
        ) from None
    minima = [(x, y) for x, y in result.minima]
    if not all(math.isfinite(v) for point in minima for v in point):  # cannot happen: |·| ≤ 1e6
        raise HTTPException(500, "a minimum was not finite")
    return Basins(
        x=result.xs.tolist(),
        y=result.ys.tolist(),
        minimum=result.minimum.tolist(),
        steps=result.steps.tolist(),
        minima=minima,
    )


def _hyper(text: str | None) -> dict | None:
    """The hyper-parameters from their JSON text, or a 422 saying what is wrong."""
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except ValueError as problem:
        raise HTTPException(422, f"hyper must be a JSON object: {problem}") from None
    if not isinstance(value, dict):
        raise HTTPException(422, 'hyper must be a JSON object such as {"momentum": 0.9}')
    if "betas" in value and isinstance(value["betas"], list):
        value["betas"] = tuple(value["betas"])
    for key, item in value.items():
        items = item if isinstance(item, list | tuple) else [item]
        if not all(isinstance(v, int | float) and np.isfinite(v) for v in items):
            raise HTTPException(422, f"hyper.{key} must be a finite number")
    return value


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a finite number")
