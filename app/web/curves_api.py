"""``GET /api/curves``: the 1-D curves of the ball-on-a-curve page (app.curves)."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from app.curves import CURVES, Curve

router = APIRouter(prefix="/api/curves", tags=["curves"])


class CurveInfo(BaseModel):
    """A curve as the page shows it: formula, plotting domain, minima and a demo."""

    name: str = Field(description="the key used in URLs and WebSocket messages")
    title: str
    formula: str = Field(description="plain text, e.g. f(x) = x⁴ − 3x³ + 2")
    description: str = Field(description="one sentence on what the curve teaches")
    domain: tuple[float, float] = Field(description="(xmin, xmax), for plotting")
    minima: list[float] = Field(description="every minimum inside the domain, left to right")
    minima_values: list[float] = Field(description="f at each minimum, in that order")
    default_start: float = Field(description="a start that gives a good demo")
    default_lr: float = Field(description="a learning rate that plain gd converges with")


def _info(curve: Curve) -> CurveInfo:
    return CurveInfo(
        name=curve.name,
        title=curve.title,
        formula=curve.formula,
        description=curve.description,
        domain=curve.domain,
        minima=curve.minima,
        minima_values=[float(curve.value(m)) for m in curve.minima],
        default_start=curve.default_start,
        default_lr=curve.default_lr,
    )


@router.get("", response_model=list[CurveInfo])
def list_curves() -> list[CurveInfo]:
    """Every curve with its formula, domain, minima and a demo start and learning rate."""
    return [_info(curve) for curve in CURVES.values()]


class CurveGrid(BaseModel):
    """f sampled on the curve's domain, both ends included."""

    x: list[float]
    f: list[float]


@router.get("/{name}/grid", response_model=CurveGrid)
def sample_curve(
    name: Annotated[str, Path(description=f"one of: {', '.join(CURVES)}")],
    n: Annotated[int, Query(ge=2, le=2000, description="points (2 to 2,000)")] = 400,
) -> CurveGrid:
    """f on n points spanning the curve's domain, for drawing it."""
    try:
        curve = CURVES[name]
    except KeyError:
        raise HTTPException(
            404, f"no curve called {name!r}; choose from {', '.join(CURVES)}"
        ) from None
    xs = np.linspace(*curve.domain, n)
    return CurveGrid(x=xs.tolist(), f=np.asarray(curve.value(xs), dtype=float).tolist())
