"""Typed formulas: the whitelist, readable refusals that run nothing, exact derivatives
(against finite differences and hand-worked values), the surface they make, the routes
and the socket."""

import ast
import builtins
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app import formula as formula_module
from app.descent import DescentRun
from app.formula import (
    FormulaError,
    compile_formula,
    formula_surface,
    parse_formula,
)

GOOD = [
    "sin(x)*cos(y) + 0.1*(x^2+y^2)",
    "x^2 + 3*y^2 - x*y",
    "x**2 + y**2",
    "exp(-(x^2+y^2)/2) * tanh(x) + atan(y)",
    "sqrt(x^2 + y^2 + 1) + log(x^2 + 1) - cosh(y/3)",
    "abs(x - 1) + sinh(y/4)^2 + tan(x/5)",
    "-x^3 + pi*y - e^(x/10)",
    "(x - 1)^2 + 100*(y - x^2)^2",
]

# text → words its error must contain (what), and the column (where)
HOSTILE = {
    "__import__('os').system('id')": ("can be called", "column 1"),
    "x.__class__": ("attribute access (.__class__)", "column 1"),
    "(lambda: 1)()": ("a lambda", "column 1"),
    "9**9**9**9": ("exponent", "above 100"),
    "x(": ("cannot read the formula", "column 2"),
    "sin(x, y)": ("takes exactly one argument, not 2", "column 1"),
    "z + 1": ("unknown name 'z'", "column 1"),
    "x" * 10_000: ("10,000 characters", "at most 200"),
    "x + " + "sin(" * 21 + "x" + ")" * 21: ("nested more than 20 deep", "column"),
    "x^101": ("exponent", "column 1"),
    "y + x^(-200)": ("exponent", "column 5"),
    "x[0]": ("indexing", "column 1"),
    "'x'": ("a string", "column 1"),
    "open('/etc/passwd')": ("unknown function 'open'", "column 1"),
    "globals()": ("unknown function 'globals'", "column 1"),
    "x if y else 1": ("if/else", "column 1"),
    "x == y": ("comparison", "column 1"),
    "x % 2": ("operator %", "column 1"),
    "[x for x in ()]": ("comprehension", "column 1"),
    "x # comment": ("'#' at column 3", "column 3"),
    "x²": ("'²' at column 2", "column 2"),
    "2x": ("cannot read the formula", "column 1"),
    "sin": ("is a function", "column 1"),
    "x(2)": ("not a function", "column 1"),
    "sin(x=1)": ("named arguments", "column 1"),
    "1/0": ("division by zero", "column 1"),
    "log(0)": ("infinite or undefined", "column 1"),
    "1e999": ("too large", "column 1"),
    "3j": ("imaginary", "column 1"),
    "True": ("constant True", "column 1"),
    "(99^99)^99": ("too large", "column 1"),
    "exp(9^99)": ("not a finite real number", "column 1"),
    "0^x": ("derivatives contain nan", "not a finite"),
    "": ("empty", "x^2"),
    "x; y": ("';' at column 2", "column 2"),
}


# --- parsing: what is refused, and that nothing runs ---------------------------------------


@pytest.mark.parametrize("text", list(HOSTILE), ids=lambda t: t[:30])
def test_bad_input_is_refused_saying_what_and_where(text):
    with pytest.raises(FormulaError) as refused:
        compile_formula(text)
    for words in HOSTILE[text]:
        assert words in str(refused.value)


def test_nothing_runs_while_hostile_input_is_refused(monkeypatch, tmp_path):
    """eval, exec, compile (beyond ast.parse's parse-only mode), __import__ of os and open
    are booby-trapped while every hostile text is parsed: each refusal comes from the
    whitelist, and no file appears."""
    marker = tmp_path / "ran"
    texts = [*HOSTILE, f"__import__('os').system('touch {marker}')", f"open('{marker}', 'w')"]

    def trap(*args, **kwargs):
        raise AssertionError(f"something tried to run: {args[:1]}")

    real_import, real_compile = builtins.__import__, builtins.compile

    def parse_only(source, filename, mode, flags=0, *args, **kwargs):
        if not flags & ast.PyCF_ONLY_AST:  # ast.parse reads into a tree; anything else runs
            trap(source)
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    for name in ("eval", "exec", "open"):
        monkeypatch.setattr(builtins, name, trap)
    monkeypatch.setattr(builtins, "compile", parse_only)
    monkeypatch.setattr(
        builtins,
        "__import__",
        lambda name, *a, **k: (
            trap(name) if name in ("os", "subprocess") else real_import(name, *a, **k)
        ),
    )
    for text in texts:
        with pytest.raises(FormulaError):
            compile_formula(text)
    monkeypatch.undo()
    assert not marker.exists()


def test_the_parser_never_hands_text_to_eval_or_sympify():
    """The module itself calls none of the functions that would run the text as Python."""
    source = Path(formula_module.__file__).read_text()
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
    }
    assert not called & {"eval", "exec", "compile", "sympify", "parse_expr", "S"}


def test_the_language_accepts_what_it_lists():
    for text in GOOD:
        compile_formula(text)
    # ^ and ** are both powers, with a power's precedence (not Python's xor)
    assert parse_formula("x^2+1") == parse_formula("x**2 + 1")
    assert parse_formula("-x^2") == -parse_formula("x^2")
    assert parse_formula("2^3^2") == 512  # right-associative, as in mathematics
    assert compile_formula("e^x + pi").normalised == "exp(x) + pi"


def test_normalised_text_reads_back_to_the_same_formula():
    for text in GOOD:
        once = compile_formula(text)
        again = compile_formula(once.normalised)
        assert again.expression == once.expression, text


# --- the derivatives ----------------------------------------------------------------------


def test_hand_worked_derivatives():
    f = compile_formula("x^2 + 3*y^2 - x*y")
    assert f.gradient_text == ("2*x - y", "-x + 6*y")
    assert f.hessian_text == (("2", "-1"), ("-1", "6"))
    assert f.gradient(1.0, 2.0) == (0.0, 11.0)
    assert f.hessian_parts(1.0, 2.0) == (2.0, -1.0, 6.0)


@pytest.mark.parametrize("text", GOOD)
def test_gradient_and_hessian_match_finite_differences(text):
    """Five-point central differences of f (for the gradient) and of the gradient (for the
    Hessian), at 200 random points where f is defined."""
    surface = formula_surface(text)
    rng = np.random.default_rng(7)
    x, y = rng.uniform(-3, 3, 200), rng.uniform(-3, 3, 200)
    h = 1e-4

    def five_point(fn, dx, dy):
        values = [np.array(fn(x + k * dx, y + k * dy)) for k in (2, 1, -1, -2)]
        return (-values[0] + 8 * values[1] - 8 * values[2] + values[3]) / (12 * h)

    gx, gy = surface.gradient(x, y)
    near_kink = np.abs(x - 1) < 3 * h  # abs(x - 1) is not differentiable at x = 1
    for exact, estimate in (
        (gx, five_point(surface.value, h, 0)),
        (gy, five_point(surface.value, 0, h)),
    ):
        tolerance = 1e-6 * np.abs(estimate) + 1e-7 * np.maximum(1, np.abs(surface.value(x, y)))
        assert np.all((np.abs(exact - estimate) <= tolerance) | near_kink)
    ((hxx, hxy), (hyx, hyy)) = surface.hessian(x, y)
    by_x, by_y = five_point(surface.gradient, h, 0), five_point(surface.gradient, 0, h)
    scale = 1e-7 * np.maximum(1, np.abs(np.array([gx, gy])).max(axis=0))
    for exact, estimate in ((hxx, by_x[0]), (hxy, by_y[0]), (hyx, by_x[1]), (hyy, by_y[1])):
        tolerance = 1e-5 * np.abs(estimate) + scale
        assert np.all((np.abs(exact - estimate) <= tolerance) | near_kink)


def test_values_match_the_formula_written_in_python():
    surface = formula_surface("sin(x)*cos(y) + 0.1*(x^2+y^2)")
    for x, y in [(0.3, -1.2), (2.0, 2.5), (-4.9, 0.0)]:
        expected = math.sin(x) * math.cos(y) + 0.1 * (x * x + y * y)
        assert surface.value(x, y) == pytest.approx(expected, rel=1e-14)


# --- the surface ----------------------------------------------------------------------------


def test_the_surface_keeps_the_shape_of_its_input_even_for_constants():
    for text in ("7", "x", "y^2", "pi"):
        surface = formula_surface(text)
        xs, ys = np.zeros((3, 1)), np.zeros((1, 4))
        assert np.shape(surface.value(xs, ys)) == (3, 4)
        assert all(np.shape(g) == (3, 4) for g in surface.gradient(xs, ys))
        assert all(np.shape(h) == (3, 4) for row in surface.hessian(xs, ys) for h in row)
        assert isinstance(surface.value(1.0, 2.0), float)


def test_the_surface_describes_itself():
    surface = formula_surface("x^2 + y^2")
    assert (surface.name, surface.title, surface.minima) == ("custom", "Your formula", [])
    assert surface.domain == ((-5.0, 5.0), (-5.0, 5.0)) and surface.formula.endswith("x^2 + y^2")
    narrow = formula_surface("x^2 + y^2", [[0, 1], [-2, 2]])
    assert narrow.domain == ((0.0, 1.0), (-2.0, 2.0))
    x0, y0 = narrow.default_start
    assert 0 < x0 < 1 and -2 < y0 < 2
    assert formula_surface("x^2 + y^2") is surface  # cached
    for domain in ([[1, 0], [0, 1]], [[0, math.inf], [0, 1]], [[0, 1e7], [0, 1]], [[0, 1]]):
        with pytest.raises(FormulaError):
            formula_surface("x", domain)


def test_a_run_descends_a_formula_and_diverges_where_it_is_not_finite():
    run = DescentRun(formula_surface("x^2 + 3*y^2 - x*y"), start=(4.0, -3.0), lr=0.1)
    steps = list(run)
    assert run.state == "converged" and math.hypot(steps[-1]["x"], steps[-1]["y"]) < 1e-5
    for before, after in zip(steps, steps[1:], strict=False):
        assert after["x"] == pytest.approx(before["x"] - 0.1 * before["g"][0], abs=1e-12)
    # log(x): the steps cross x = 0, where log is undefined: the run ends as diverged
    run = DescentRun(formula_surface("log(x) + y^2"), start=(0.5, 1.0), lr=1.0)
    steps = list(run)
    assert run.state == "diverged" and all(math.isfinite(s["f"]) for s in steps)


# --- routes and socket --------------------------------------------------------------------


def strict(response, status=200):
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} in a response"))


def test_post_formulas(client):
    body = strict(client.post("/api/formulas", json={"formula": "x^2 + 3*y^2 - x*y"}))
    assert body == {
        "formula": "x^2 - x*y + 3*y^2",
        "gradient": ["2*x - y", "-x + 6*y"],
        "hessian": [["2", "-1"], ["-1", "6"]],
        "domain": [[-5.0, 5.0], [-5.0, 5.0]],
    }
    body = strict(client.post("/api/formulas", json={"formula": "x", "domain": [[0, 1], [2, 3]]}))
    assert body["domain"] == [[0.0, 1.0], [2.0, 3.0]]


@pytest.mark.parametrize(
    "text", ["__import__('os').system('id')", "x.__class__", "z + 1", "x(", "x" * 10_000]
)
def test_post_formulas_refuses_with_a_readable_detail(client, text):
    detail = strict(client.post("/api/formulas", json={"formula": text}), 422)["detail"]
    assert isinstance(detail, str) and ("column" in detail or "characters" in detail)


def test_custom_eval_and_grid(client):
    params = {"formula": "x^2 + 3*y^2 - x*y", "x": 1, "y": 2}
    body = strict(client.get("/api/surfaces/custom/eval", params=params))
    assert body == {"value": 11.0, "gradient": [0.0, 11.0], "hessian": [[2.0, -1.0], [-1.0, 6.0]]}
    params = {"formula": "x + 10*y", "n": 5, "xmin": 0, "xmax": 2, "ymax": 1}
    body = strict(client.get("/api/surfaces/custom/grid", params=params))
    assert body["x"] == [0.0, 0.5, 1.0, 1.5, 2.0] and body["y"] == [-5.0, -3.5, -2.0, -0.5, 1.0]
    assert body["z"][4][2] == 1.0 + 10 * 1.0  # z[j][i] = f(x[i], y[j]), both ends included
    # where f is undefined the grid has holes (null), never NaN
    body = strict(client.get("/api/surfaces/custom/grid", params={"formula": "log(x)", "n": 3}))
    assert body["z"][0][:2] == [None, None] and body["z"][0][2] == pytest.approx(math.log(5))


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/api/surfaces/custom/grid", "needs its formula"),
        ("/api/surfaces/custom/grid?formula=z%2B1", "unknown name 'z' at column 1"),
        ("/api/surfaces/custom/eval?formula=x.__class__&x=0&y=0", "attribute access"),
        ("/api/surfaces/custom/grid?formula=x&xmin=6", "xmin < xmax"),
        ("/api/surfaces/custom/eval?formula=log(x)&x=-1&y=0", "undefined there"),
    ],
)
def test_custom_routes_explain_refusals(client, url, words):
    assert words in strict(client.get(url), 422)["detail"]


def test_the_socket_runs_a_formula_and_survives_a_bad_one(client):
    with client.websocket_connect("/ws/descent") as ws:
        ws.send_json({"type": "start", "surface": "custom", "formula": "__import__('os')"})
        message = ws.receive_json()
        assert message["type"] == "error" and "column 1" in message["message"]
        ws.send_json({"type": "start", "surface": "custom"})
        assert "needs its formula" in ws.receive_json()["message"]
        ws.send_json({
            "type": "start", "surface": "custom", "formula": "x^2 + 3*y^2 - x*y",
            "domain": [[-2, 2], [-1, 1]], "speed": 0, "runs": [{"start": [1.5, 0.5], "lr": 0.1}],
        })  # fmt: skip
        steps = []
        while True:
            message = json.loads(ws.receive_text(), parse_constant=lambda c: pytest.fail(c))
            if message["type"] == "steps":
                steps += message["steps"]
            elif message["type"] == "status" and message["state"] != "running":
                if message["state"] in ("converged", "diverged", "max_steps"):
                    break
        assert message["state"] == "converged"
        assert steps[0]["x"] == 1.5 and abs(steps[-1]["x"]) < 1e-5


ALPHABET = "xyepi0123456789.+-*/^() ,sincotaexplgqrbh'[]_=<>%&|!:@~#;\\"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=60) | st.text(max_size=30))
def test_any_text_is_a_formula_or_a_refusal(text):
    """Whatever is typed: a formula, or a FormulaError — never another exception."""
    try:
        formula = compile_formula(text)
    except FormulaError as problem:
        assert str(problem)
        return
    value = formula.value(np.array([0.5, -1.5]), np.array([2.0, 0.25]))
    assert value.shape == (2,) and value.dtype == float


@pytest.mark.parametrize("text", ["log(-1)", "sqrt(-4) + x", "(-1)^(1/3) * x", "x + log(-2)"])
def test_complex_numbers_are_refused(text):
    with pytest.raises(FormulaError, match="not a finite real number"):
        compile_formula(text)
