"""``/api/surfaces``: the surfaces, a point's value, gradient and Hessian, a contour grid.

The handlers only check input and translate: the maths lives in app.surfaces.
Nothing non-finite ever leaves: coordinates are limited to |·| ≤ 1e6, and a value
that still overflows is refused with a reason rather than sent as NaN or Infinity.
"""

from __future__ import annotations

import math
from typing import Annotated

import numpy as np
from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, Field

from app.formula import FormulaError, formula_surface
from app.surfaces import SURFACES, Surface, grid

router = APIRouter(prefix="/api/surfaces", tags=["surfaces"])

LIMIT = 1e6  # the same bound as a descent run's: beyond it a point has left any plot
GRID_MIN, GRID_MAX, GRID_DEFAULT = 2, 400, 120

Pair = tuple[float, float]
SurfaceName = Annotated[
    str, Path(description=f"one of: {', '.join(SURFACES)}, or custom (with formula)")
]
FormulaText = Annotated[
    str | None, Query(description="for custom: the formula, e.g. sin(x)*cos(y) + 0.1*(x^2+y^2)")
]
Bound = Annotated[float | None, Query(description="for custom: the domain's edge (default ±5)")]
Coordinate = Annotated[float, Query(description="a finite number with |value| ≤ 1e6")]
GridSize = Annotated[int, Query(ge=GRID_MIN, le=GRID_MAX, description="points per axis (2 to 400)")]


class SurfaceInfo(BaseModel):
    """A surface as the page shows it: formula, plotting domain, minima and a demo."""

    name: str = Field(description="the key used in URLs and WebSocket messages")
    title: str
    formula: str = Field(description="plain text, e.g. f(x, y) = x² + y²")
    description: str = Field(description="one sentence on what the surface teaches")
    domain: tuple[Pair, Pair] = Field(description="((xmin, xmax), (ymin, ymax)), for plotting")
    minima: list[Pair] = Field(description="every listed minimum (x, y), the global one first")
    minima_values: list[float] = Field(description="f at each listed minimum, in that order")
    min_value: float | None = Field(description="the global minimum value; null if none")
    default_start: Pair = Field(description="a start that gives a good demo")
    default_lr: float = Field(description="a learning rate that plain gd converges with")
    log_color: bool = Field(description="colour log(f − min_value + 1): f spans many decades")


class Evaluation(BaseModel):
    """f, its exact gradient and its exact Hessian at one point."""

    value: float
    gradient: Pair = Field(description="(∂f/∂x, ∂f/∂y)")
    hessian: tuple[Pair, Pair] | None = Field(
        description="((fxx, fxy), (fxy, fyy)); null where f has no finite second derivative"
        " (Ackley's cone tip)"
    )


class Grid(BaseModel):
    """f sampled on the domain; ``z[j][i] = f(x[i], y[j])``, the layout Plotly draws.

    null only for custom formulas, where f is not a finite number (log(x) for x ≤ 0).
    """

    x: list[float]
    y: list[float]
    z: list[list[float | None]]


def surface_of(
    name: SurfaceName,
    formula: FormulaText = None,
    xmin: Bound = None,
    xmax: Bound = None,
    ymin: Bound = None,
    ymax: Bound = None,
) -> Surface:
    """The route's surface (a dependency of every ``/{name}/…`` route): a built-in one, or
    for ``custom`` the surface of ``formula`` over xmin…ymax (default ±5). A plain ``def``:
    FastAPI runs it in its thread pool, as a long formula takes SymPy a second or two."""
    if name == "custom":
        if formula is None:
            raise HTTPException(422, "the custom surface needs its formula: ?formula=x^2+y^2")
        x0, x1, y0, y1 = (
            default if bound is None else bound
            for bound, default in zip((xmin, xmax, ymin, ymax), (-5.0, 5.0, -5.0, 5.0), strict=True)
        )
        try:
            return formula_surface(formula, ((x0, x1), (y0, y1)))
        except FormulaError as problem:
            raise HTTPException(422, str(problem)) from None
    try:
        return SURFACES[name]
    except KeyError:
        raise HTTPException(
            404, f"no surface called {name!r}; choose from {', '.join(SURFACES)}, or custom"
        ) from None


#: a route parameter: the surface its path and query name (``surface_of``)
RouteSurface = Annotated[Surface, Depends(surface_of)]


def _check_coordinate(axis: str, value: float) -> None:
    if not math.isfinite(value):
        raise HTTPException(422, f"{axis} must be a finite number, not {value}")
    if abs(value) > LIMIT:
        raise HTTPException(422, f"{axis} must be between -1e6 and 1e6, not {value:g}")


def _info(surface: Surface) -> SurfaceInfo:
    return SurfaceInfo(
        name=surface.name,
        title=surface.title,
        formula=surface.formula,
        description=surface.description,
        domain=surface.domain,
        minima=surface.minima,
        minima_values=[float(surface.value(*m)) for m in surface.minima],
        min_value=surface.min_value,
        default_start=surface.default_start,
        default_lr=surface.default_lr,
        log_color=surface.log_color,
    )


@router.get("", response_model=list[SurfaceInfo])
def list_surfaces() -> list[SurfaceInfo]:
    """Every surface with its formula, domain, minima and a demo start and learning rate."""
    return [_info(surface) for surface in SURFACES.values()]


@router.get("/{name}/eval", response_model=Evaluation)
def evaluate(surface: RouteSurface, x: Coordinate, y: Coordinate) -> Evaluation:
    """f(x, y), the exact gradient (∂f/∂x, ∂f/∂y) and Hessian at one point."""
    _check_coordinate("x", x)
    _check_coordinate("y", y)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            value = float(surface.value(x, y))
            gx, gy = (float(g) for g in surface.gradient(x, y))
        except ArithmeticError:  # Python floats raise on overflow where NumPy says inf
            value = gx = gy = math.inf
    if not all(math.isfinite(v) for v in (value, gx, gy)):
        raise HTTPException(
            422,
            f"f or its gradient overflows at ({x:g}, {y:g}) or is undefined there: "
            "try a point nearer the domain",
        )
    return Evaluation(value=value, gradient=(gx, gy), hessian=_hessian_at(surface, x, y))


def _hessian_at(surface: Surface, x: float, y: float) -> tuple[Pair, Pair] | None:
    with np.errstate(all="ignore"):
        try:
            (hxx, hxy), (_, hyy) = surface.hessian(x, y)
            entries = float(hxx), float(hxy), float(hyy)
        except ArithmeticError:
            return None
    if not all(math.isfinite(v) for v in entries):
        return None
    hxx, hxy, hyy = entries
    return (hxx, hxy), (hxy, hyy)


@router.get("/{name}/grid", response_model=Grid)
def sample_grid(surface: RouteSurface, n: GridSize = GRID_DEFAULT) -> Grid:
    """f on an n × n grid over the surface's domain; z[j][i] = f(x[i], y[j]) as Plotly wants.

    A plain ``def``: FastAPI runs it in its thread pool, so a formula's grid (at most
    400 × 400 points of an expression of at most 200 characters) never blocks the
    event loop.
    """
    with np.errstate(all="ignore"):
        xs, ys, zs = grid(surface, n)
    if surface.name == "custom":  # holes where f is undefined: Plotly leaves them blank
        z = np.where(np.isfinite(zs), zs, None).tolist()
        return Grid(x=xs.tolist(), y=ys.tolist(), z=z)
    if not np.all(np.isfinite(zs)):  # the domains are chosen so this cannot happen
        raise HTTPException(500, f"{surface.title} is not finite everywhere on its domain")
    return Grid(x=xs.tolist(), y=ys.tolist(), z=zs.tolist())
