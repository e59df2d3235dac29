"""``/api/surfaces``: the surfaces, a point's value and gradient, a contour grid."""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel

from app.surfaces import SURFACES, Surface, grid

router = APIRouter(prefix="/api/surfaces", tags=["surfaces"])

LIMIT = 1e6
Coordinate = Annotated[float, Query(description="a finite number with |value| ≤ 1e6")]


class SurfaceInfo(BaseModel):
    name: str
    title: str
    formula: str
    description: str
    domain: list[list[float]]
    minima: list[list[float]]
    minima_values: list[float]
    min_value: float | None
    default_start: list[float]
    default_lr: float
    log_color: bool


class Evaluation(BaseModel):
    value: float
    gradient: list[float]


class Grid(BaseModel):
    x: list[float]
    y: list[float]
    z: list[list[float]]


def _surface(name: str) -> Surface:
    try:
        return SURFACES[name]
    except KeyError:
        raise HTTPException(
            404, f"no surface called {name!r}; choose from {', '.join(SURFACES)}"
        ) from None


def _check_coordinate(name: str, value: float) -> None:
    if not math.isfinite(value) or abs(value) > LIMIT:
        raise HTTPException(422, f"{name} must be a finite number between -1e6 and 1e6")


@router.get("", response_model=list[SurfaceInfo])
def list_surfaces() -> list[dict]:
    """Every surface with its formula, domain, minima and a demo start and learning rate."""
    return [surface.describe() for surface in SURFACES.values()]


@router.get("/{name}/eval", response_model=Evaluation)
def evaluate(name: str, x: Coordinate, y: Coordinate) -> dict:
    """f(x, y) and the exact gradient (∂f/∂x, ∂f/∂y) at one point."""
    surface = _surface(name)
    _check_coordinate("x", x)
    _check_coordinate("y", y)
    value = float(surface.value(x, y))
    gradient = [float(g) for g in surface.gradient(x, y)]
    if not all(math.isfinite(v) for v in [value, *gradient]):
        raise HTTPException(422, "the surface overflows at that point: try one nearer its domain")
    return {"value": value, "gradient": gradient}


@router.get("/{name}/grid", response_model=Grid)
def sample_grid(
    name: str, n: Annotated[int, Query(ge=2, le=400, description="points per axis")] = 120
) -> dict:
    """f on an n×n grid over the surface's domain; z[j][i] = f(x[i], y[j]) as Plotly wants."""
    xs, ys, zs = grid(_surface(name), n)
    return {"x": xs.tolist(), "y": ys.tolist(), "z": np.nan_to_num(zs).tolist()}
