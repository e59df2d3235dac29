"""Typed formulas: text such as ``sin(x)*cos(y) + 0.1*(x^2 + y^2)`` made into a surface.

The text is parsed with Python's ``ast`` (which only reads it) and every node is
checked against a small whitelist — numbers, ``x``, ``y``, ``pi``, ``e``, ``+ - * /``,
``^`` and ``**`` (both mean power), unary minus, parentheses and the functions in
``FUNCTIONS`` — then built into a SymPy expression node by node.  The text itself is
never handed to ``eval``, ``sympify`` or ``parse_expr``: they evaluate it as Python.
Anything else is refused with a ``FormulaError`` that says what and at which column
(1-based), before any work is done on it.

SymPy differentiates the expression exactly; NumPy evaluates f, its gradient and
its Hessian (``lambdify`` prints the checked expression as NumPy code, so only
whitelisted operations can appear in it).  Where any of them is not finite, a
descent step counts as diverged (app.descent checks every step).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from functools import lru_cache

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from app.surfaces import Surface

__all__ = [
    "DEFAULT_DOMAIN",
    "FUNCTIONS",
    "Formula",
    "FormulaError",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_LENGTH",
    "check_domain",
    "compile_formula",
    "formula_surface",
    "parse_formula",
    "show",
]

MAX_LENGTH = 200  # characters
MAX_DEPTH = 20  # calls and operators inside one another
MAX_EXPONENT = 100  # |exponent| of a power whose exponent is a number
DOMAIN_LIMIT = 1e6  # the descent's coordinate limit
DEFAULT_DOMAIN = ((-5.0, 5.0), (-5.0, 5.0))

X, Y = sp.symbols("x y", real=True)  # real: d|x|/dx is sign(x), not a complex expression
VARIABLES = {"x": X, "y": Y}
CONSTANTS = {"pi": sp.pi, "e": sp.E}
FUNCTIONS: dict[str, Callable[[sp.Expr], sp.Expr]] = {
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "exp": sp.exp,
    "log": sp.log,
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "tanh": sp.tanh,
    "sinh": sp.sinh,
    "cosh": sp.cosh,
    "atan": sp.atan,
}
OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "^"}
REFUSED_CHARACTERS = "#\\;"  # a comment would hide text; \ and ; join Python lines
# What a refused node is, in words.
DESCRIPTIONS = {
    ast.Attribute: "attribute access",
    ast.Subscript: "indexing with [ ]",
    ast.Lambda: "a lambda",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "if/else",
    ast.List: "a list",
    ast.Tuple: "a tuple (a comma outside a function call)",
    ast.Set: "a set",
    ast.Dict: "a dict",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator",
    ast.JoinedStr: "a string",
    ast.NamedExpr: "an assignment (:=)",
    ast.Starred: "unpacking with *",
    ast.Slice: "a slice",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
}


class FormulaError(ValueError):
    """A formula outside the language; the message names the problem and its column."""


class Formula:
    """A parsed formula: the SymPy expression, its exact derivatives and NumPy versions."""

    def __init__(self, text: str, expression: sp.Expr) -> None:
        self.text = text
        self.expression = expression
        gradient = [sp.diff(expression, v) for v in (X, Y)]
        hessian = [[_no_delta(sp.diff(g, v)) for v in (X, Y)] for g in gradient]
        self.gradient_expressions = gradient
        self.hessian_expressions = hessian
        for part in (*gradient, *hessian[0], hessian[1][1]):
            _check_numbers(part)
        self._f = _numpy(expression)
        self._g = [_numpy(g) for g in gradient]
        self._h = [_numpy(hessian[0][0]), _numpy(hessian[0][1]), _numpy(hessian[1][1])]

    @property
    def normalised(self) -> str:
        """The formula as SymPy arranges it, written in the formula language itself."""
        return show(self.expression)

    @property
    def gradient_text(self) -> tuple[str, str]:
        return show(self.gradient_expressions[0]), show(self.gradient_expressions[1])

    @property
    def hessian_text(self) -> tuple[tuple[str, str], tuple[str, str]]:
        (hxx, hxy), (_, hyy) = self.hessian_expressions
        return (show(hxx), show(hxy)), (show(hxy), show(hyy))

    def value(self, x, y):
        """f(x, y) on float arrays (an array of their broadcast shape) or floats (a float)."""
        return _call(self._f, x, y)

    def gradient(self, x, y):
        return _call(self._g[0], x, y), _call(self._g[1], x, y)

    def hessian_parts(self, x, y):
        """(fxx, fxy, fyy), as app.surface_formulas' Hessians return them."""
        return tuple(_call(h, x, y) for h in self._h)


# --- parsing ---------------------------------------------------------------------------


def parse_formula(text: str) -> sp.Expr:
    """The SymPy expression of ``text``; FormulaError when it is outside the language."""
    if not isinstance(text, str):
        raise FormulaError("a formula is text")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula has {len(text):,} characters: at most {MAX_LENGTH}")
    if not text.strip():
        raise FormulaError("the formula is empty: type one, e.g. x^2 + 3*y^2")
    for column, char in enumerate(text, start=1):
        if not (char.isascii() and char.isprintable()) or char in REFUSED_CHARACTERS:
            raise FormulaError(
                f"the character {char!r} at column {column} is not part of a formula "
                "(write powers as x^2, products as 2*x)"
            )
    source, origin = _python_source(text)
    try:
        tree = ast.parse(source, mode="eval")  # reads the text; runs nothing
    except SyntaxError as problem:
        column = origin[min(max((problem.offset or 1) - 1, 0), len(origin) - 1)]
        message = (problem.msg or "invalid syntax").split(" (")[0]
        raise FormulaError(f"cannot read the formula at column {column}: {message}") from None
    return _build(tree.body, origin, depth=1)


def _python_source(text: str) -> tuple[str, list[int]]:
    """``text`` with ``^`` written ``**``, and each source position's 1-based column in text."""
    source, origin = [], []
    for column, char in enumerate(text, start=1):
        piece = "**" if char == "^" else char
        source.append(piece)
        origin += [column] * len(piece)
    origin.append(len(text) + 1)  # the end, where "unexpected end" points
    return "".join(source), origin


def _build(node: ast.AST, origin: list[int], depth: int) -> sp.Expr:
    """Build one checked node (and, first, its children) into SymPy."""
    column = origin[min(getattr(node, "col_offset", 0), len(origin) - 1)]
    where = f"at column {column}"
    if depth > MAX_DEPTH:
        raise FormulaError(f"calls and operators are nested more than {MAX_DEPTH} deep {where}")
    if isinstance(node, ast.Constant):
        return _number(node.value, where)
    if isinstance(node, ast.Name):
        if node.id in VARIABLES:
            return VARIABLES[node.id]
        if node.id in CONSTANTS:
            return CONSTANTS[node.id]
        if node.id in FUNCTIONS:
            raise FormulaError(f"{node.id} {where} is a function: call it, e.g. {node.id}(x)")
        raise FormulaError(f"unknown name {node.id[:30]!r} {where}: only x, y, pi and e are known")
    if isinstance(node, ast.UnaryOp):
        if isinstance(node.op, ast.USub | ast.UAdd):
            operand = _build(node.operand, origin, depth + 1)
            return -operand if isinstance(node.op, ast.USub) else operand
        raise FormulaError(f"the operator {_symbol(node.op)} {where} is not allowed")
    if isinstance(node, ast.BinOp):
        if type(node.op) not in OPERATORS:
            raise FormulaError(
                f"the operator {_symbol(node.op)} {where} is not allowed: use + - * / ^"
            )
        left = _build(node.left, origin, depth + 1)
        right = _build(node.right, origin, depth + 1)
        return _operate(node.op, left, right, where)
    if isinstance(node, ast.Call):
        return _call_function(node, origin, depth, where)
    what = DESCRIPTIONS.get(type(node), type(node).__name__)
    if isinstance(node, ast.Attribute):
        what = f"attribute access (.{node.attr[:30]})"
    raise FormulaError(f"{what} {where} is not allowed in a formula")


def _call_function(node: ast.Call, origin: list[int], depth: int, where: str) -> sp.Expr:
    known = ", ".join(FUNCTIONS)
    if not isinstance(node.func, ast.Name):
        what = DESCRIPTIONS.get(type(node.func), "an expression")
        if isinstance(node.func, ast.Attribute):
            what = f"attribute .{node.func.attr[:30]}"
        raise FormulaError(f"only the functions {known} can be called; {where} a call of {what}")
    name = node.func.id
    if name not in FUNCTIONS:
        if name in VARIABLES or name in CONSTANTS:
            raise FormulaError(f"{name} {where} is not a function: write {name}*(…) to multiply")
        raise FormulaError(f"unknown function {name[:30]!r} {where}: use one of {known}")
    if node.keywords:
        raise FormulaError(f"{name} {where} takes no named arguments")
    if len(node.args) != 1:
        raise FormulaError(f"{name} {where} takes exactly one argument, not {len(node.args)}")
    argument = _build(node.args[0], origin, depth + 1)
    return _checked(FUNCTIONS[name](argument), where)


def _number(value: object, where: str) -> sp.Expr:
    if isinstance(value, bool) or not isinstance(value, int | float):
        what = "a string" if isinstance(value, str | bytes) else f"the constant {value!r}"
        if isinstance(value, complex):
            what = "an imaginary number"
        raise FormulaError(f"{what} {where} is not allowed in a formula")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FormulaError(f"the number {where} is too large")
        return sp.Float(value)
    return sp.Integer(value)


def _operate(op: ast.operator, left: sp.Expr, right: sp.Expr, where: str) -> sp.Expr:
    if isinstance(op, ast.Add):
        return left + right
    if isinstance(op, ast.Sub):
        return left - right
    if isinstance(op, ast.Mult):
        return left * right
    if isinstance(op, ast.Div):
        if right == 0:
            raise FormulaError(f"division by zero {where}")
        return _checked(left / right, where)
    # a power: SymPy computes a number to a number exactly, so keep those within floats
    if right.is_number:
        size = _size(right)
        if size is None or size > MAX_EXPONENT:
            raise FormulaError(f"the exponent {where} is above {MAX_EXPONENT} in size")
        if left.is_number:
            base = _size(left)
            if base is None or (base != 0 and size * abs(math.log10(base)) > 300):
                raise FormulaError(f"the power {where} is too large a number")
    return _checked(left**right, where)


def _size(number: sp.Expr) -> float | None:
    """|number| as a float, or None when it is not a finite real number."""
    try:
        value = complex(number)
    except (TypeError, ValueError, OverflowError):
        return None
    if value.imag != 0 or not math.isfinite(value.real):
        return None
    return abs(value.real)


def _checked(expression: sp.Expr, where: str) -> sp.Expr:
    """Refuse a result SymPy made infinite or undefined (1/0, log(0), 0^-1)."""
    if expression.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
        raise FormulaError(f"the formula is infinite or undefined {where}")
    if expression.has(sp.I) or (expression.is_number and _size(expression) is None):
        raise FormulaError(
            f"the formula is not a finite real number {where} (too large, or e.g. log or √ of −1)"
        )
    return expression


def _check_numbers(expression: sp.Expr) -> None:
    for number in expression.atoms(sp.Number):
        try:
            finite = math.isfinite(float(number))
        except (OverflowError, TypeError):
            finite = False
        if not finite:
            raise FormulaError(
                f"the formula or its derivatives contain {show(number)[:40]}: "
                "not a finite floating-point number"
            )


def _symbol(op: ast.AST) -> str:
    symbols = {
        ast.Mod: "%", ast.FloorDiv: "//", ast.MatMult: "@", ast.BitAnd: "&", ast.BitOr: "|",
        ast.LShift: "<<", ast.RShift: ">>", ast.Invert: "~", ast.Not: "not",
    }  # fmt: skip
    return symbols.get(type(op), type(op).__name__)


# --- evaluation and display --------------------------------------------------------------


def _no_delta(expression: sp.Expr) -> sp.Expr:
    """d sign(t)/dt is 2·δ(t): zero everywhere but at a kink, where NumPy cannot show it."""
    return expression.replace(sp.DiracDelta, lambda *args: sp.Integer(0))


def _numpy(expression: sp.Expr) -> Callable:
    # lambdify prints the checked expression as NumPy code: only whitelisted operations
    # (and sign, the derivative of abs) can appear, never the person's text
    return sp.lambdify((X, Y), expression, modules="numpy")


def _call(function: Callable, x, y):
    """Evaluate in float64 NumPy (inf and NaN, never an exception), in the inputs' shape."""
    if type(x) is float and type(y) is float:  # a descent step: the hot path, kept short
        with np.errstate(all="ignore"):
            return float(function(np.float64(x), np.float64(y)))
    xa, ya = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    with np.errstate(all="ignore"):
        result = np.asarray(function(xa, ya), dtype=float)
    shape = np.broadcast_shapes(xa.shape, ya.shape)
    if shape == ():
        return float(result)
    return np.broadcast_to(result, shape).copy()  # a constant still fills the grid


class _Printer(StrPrinter):
    """SymPy's text, in the formula language: abs, e, and floats as Python writes them."""

    def _print_Abs(self, expr):
        return f"abs({self._print(expr.args[0])})"

    def _print_Exp1(self, expr):
        return "e"

    def _print_Float(self, expr):
        return repr(float(expr))


def show(expression: sp.Expr) -> str:
    """The expression as text, ``**`` written ``^``."""
    return _Printer().doprint(expression).replace("**", "^")


# --- the surface ---------------------------------------------------------------------------


def check_domain(domain) -> tuple[tuple[float, float], tuple[float, float]]:
    """((xmin, xmax), (ymin, ymax)) as floats; FormulaError unless finite, ordered, in ±1e6."""
    try:
        (x0, x1), (y0, y1) = ((float(a), float(b)) for a, b in domain)
    except (TypeError, ValueError):
        raise FormulaError("the domain is [[xmin, xmax], [ymin, ymax]]") from None
    for axis, low, high in (("x", x0, x1), ("y", y0, y1)):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise FormulaError(f"the {axis} range must be finite numbers")
        if not low < high:
            raise FormulaError(
                f"the {axis} range must have {axis}min < {axis}max, not {low:g} ≥ {high:g}"
            )
        if max(abs(low), abs(high)) > DOMAIN_LIMIT:
            raise FormulaError(f"the {axis} range must lie within ±1e6")
    return (x0, x1), (y0, y1)


@lru_cache(maxsize=256)
def compile_formula(text: str) -> Formula:
    """The parsed, differentiated formula (cached: every request carries its text)."""
    return Formula(text, parse_formula(text))


@lru_cache(maxsize=256)
def _surface(text: str, domain: tuple[tuple[float, float], tuple[float, float]]) -> Surface:
    formula = compile_formula(text)
    (x0, x1), (y0, y1) = domain
    return Surface(
        name="custom",
        title="Your formula",
        formula=f"f(x, y) = {formula.normalised}",
        description="Your own surface: its gradient and Hessian are exact (SymPy).",
        domain=domain,
        minima=[],
        min_value=None,
        default_start=(x0 + 0.8 * (x1 - x0), y0 + 0.7 * (y1 - y0)),
        default_lr=0.01,
        log_color=False,
        value_fn=formula.value,
        gradient_fn=formula.gradient,
        hessian_fn=formula.hessian_parts,
    )


def formula_surface(text: str, domain=None) -> Surface:
    """The surface of a typed formula over ``domain`` (default [-5, 5]²); FormulaError if bad."""
    return _surface(text, check_domain(DEFAULT_DOMAIN if domain is None else domain))
