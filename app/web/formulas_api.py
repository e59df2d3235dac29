"""``POST /api/formulas``: check a typed formula and show its exact gradient and Hessian.

Stateless: nothing is stored; every surface route takes the formula again
(``/api/surfaces/custom/…?formula=``), and app.formula caches what it parsed.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from app.formula import DEFAULT_DOMAIN, FormulaError, check_domain, compile_formula

router = APIRouter(prefix="/api/formulas", tags=["formulas"])

Pair = tuple[float, float]


class FormulaRequest(BaseModel):
    formula: str = Field(
        description="at most 200 characters: numbers, x, y, pi, e, + - * / ^ **, parentheses "
        "and sin cos tan exp log sqrt abs tanh sinh cosh atan",
        examples=["sin(x)*cos(y) + 0.1*(x^2 + y^2)"],
    )
    domain: tuple[Pair, Pair] | None = Field(
        None, description="[[xmin, xmax], [ymin, ymax]]; default [[-5, 5], [-5, 5]]"
    )


class FormulaInfo(BaseModel):
    formula: str = Field(description="the formula as SymPy arranges it, in the same language")
    gradient: tuple[str, str] = Field(description="(∂f/∂x, ∂f/∂y), exact")
    hessian: tuple[tuple[str, str], tuple[str, str]] = Field(
        description="((fxx, fxy), (fxy, fyy)), exact"
    )
    domain: tuple[Pair, Pair]


@router.post("", response_model=FormulaInfo)
def check_formula(request: FormulaRequest) -> FormulaInfo:
    """Parse the formula against the whitelist; 422 with what and where when it is refused."""
    try:
        domain = check_domain(DEFAULT_DOMAIN if request.domain is None else request.domain)
        formula = compile_formula(request.formula)
    except FormulaError as problem:
        raise HTTPException(422, str(problem)) from None
    return FormulaInfo(
        formula=formula.normalised,
        gradient=formula.gradient_text,
        hessian=formula.hessian_text,
        domain=domain,
    )
