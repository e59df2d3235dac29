"""/api/surfaces: the list, one point, a grid; clear 404 and 422 details; never NaN."""

import dataclasses
import json
import math

import numpy as np
import pytest

from app.surfaces import SURFACES

FIELDS = {
    "name", "title", "formula", "description", "domain", "minima", "minima_values", "min_value",
    "default_start", "default_lr", "log_color",
}  # fmt: skip


def strict(response, status=200):
    """The JSON body, failing on NaN or Infinity (which Python's json would accept)."""
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} in a response"))


def test_list_describes_every_surface(client):
    listed = strict(client.get("/api/surfaces"))
    assert [s["name"] for s in listed] == list(SURFACES)
    for s in listed:
        assert set(s) == FIELDS
        surface = SURFACES[s["name"]]
        assert s["title"] == surface.title and s["formula"] == surface.formula
        assert s["description"] == surface.description
        assert s["domain"] == [list(surface.domain[0]), list(surface.domain[1])]
        assert s["minima"] == [list(m) for m in surface.minima]
        assert s["minima_values"] == [surface.value(*m) for m in surface.minima]
        assert s["min_value"] == surface.min_value
        assert s["default_start"] == list(surface.default_start)
        assert s["default_lr"] == surface.default_lr and s["log_color"] is surface.log_color
    rosenbrock = next(s for s in listed if s["name"] == "rosenbrock")
    assert rosenbrock["minima"] == [[1.0, 1.0]] and rosenbrock["min_value"] == 0.0
    assert rosenbrock["domain"] == [[-2.0, 2.0], [-1.0, 3.0]] and rosenbrock["log_color"] is True
    saddle = next(s for s in listed if s["name"] == "saddle")
    assert saddle["minima"] == [] and saddle["min_value"] is None


def test_eval_gives_value_and_gradient(client):
    body = strict(client.get("/api/surfaces/himmelblau/eval", params={"x": 1, "y": 2}))
    # by hand: a = 1 + 2 − 11 = −8, b = 1 + 4 − 7 = −2; f = 64 + 4; ∇f = (4a + 2b, 2a + 8b)
    # ∂²f: fxx = 4a + 8x² + 2 = −22, fxy = 4x + 4y = 12, fyy = 2 + 4b + 8y² = 26
    assert body == {"value": 68.0, "gradient": [-36.0, -32.0], "hessian": [[-22, 12], [12, 26]]}
    body = strict(client.get("/api/surfaces/ackley/eval", params={"x": 0, "y": 0}))
    assert body == {"value": 0.0, "gradient": [0.0, 0.0], "hessian": None}  # the cone's tip


@pytest.mark.parametrize("name", list(SURFACES))
def test_eval_is_finite_up_to_the_limit(client, name):
    for x, y in [(1e6, 1e6), (-1e6, 1e6), (1e6, -1e6), (-1e6, -1e6), (0.3, -0.7)]:
        body = strict(client.get(f"/api/surfaces/{name}/eval", params={"x": x, "y": y}))
        assert body["value"] == pytest.approx(float(SURFACES[name].value(x, y)), rel=1e-15)


def test_grid_follows_plotly_convention(client):
    body = strict(client.get("/api/surfaces/booth/grid", params={"n": 7}))
    assert body["x"][0] == -10.0 and body["x"][-1] == 10.0 and len(body["y"]) == 7
    assert len(body["z"]) == 7 and all(len(row) == 7 for row in body["z"])
    x, y = body["x"][2], body["y"][5]
    assert body["z"][5][2] == (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2  # z[j][i] = f(x[i], y[j])
    assert body["z"][5][2] != body["z"][2][5]


@pytest.mark.parametrize("name", list(SURFACES))
def test_grids_are_finite_at_the_default_and_largest_sizes(client, name):
    body = strict(client.get(f"/api/surfaces/{name}/grid"))
    assert len(body["x"]) == len(body["y"]) == 120 and len(body["z"]) == 120
    (x0, x1), (y0, y1) = SURFACES[name].domain
    assert (body["x"][0], body["x"][-1], body["y"][0], body["y"][-1]) == (x0, x1, y0, y1)
    body = strict(client.get(f"/api/surfaces/{name}/grid", params={"n": 400}))
    assert len(body["z"]) == 400 and all(math.isfinite(v) for row in body["z"] for v in row)


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/surfaces/moon/eval?x=1&y=1", 404, "no surface called 'moon'; choose from bowl,"),
        ("/api/surfaces/moon/grid", 404, "styblinski_tang"),
        ("/api/surfaces/bowl/eval?x=nan&y=1", 422, "x must be a finite number, not nan"),
        ("/api/surfaces/bowl/eval?x=1&y=inf", 422, "y must be a finite number, not inf"),
        ("/api/surfaces/bowl/eval?x=1&y=-Infinity", 422, "y must be a finite number, not -inf"),
        ("/api/surfaces/bowl/eval?x=1e400&y=1", 422, "x must be a finite number"),
        ("/api/surfaces/bowl/eval?x=1e7&y=1", 422, "x must be between -1e6 and 1e6, not 1e+07"),
        ("/api/surfaces/bowl/eval?x=1&y=-1000000.5", 422, "y must be between -1e6 and 1e6"),
        ("/api/surfaces/bowl/eval?x=one&y=1", 422, "x: input should be a valid number"),
        ("/api/surfaces/bowl/eval?x=1", 422, "y: field required"),
        ("/api/surfaces/bowl/grid?n=1", 422, "n: input should be greater than or equal to 2"),
        ("/api/surfaces/bowl/grid?n=401", 422, "n: input should be less than or equal to 400"),
        ("/api/surfaces/bowl/grid?n=ten", 422, "n: input should be a valid integer"),
    ],
)
def test_errors_explain_themselves(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert words in response.json()["detail"].lower()


def test_an_overflow_is_refused_not_sent(client, monkeypatch):
    def steep(x, y):
        return 10.0**x + y  # a Python float overflow raises; NumPy's would be inf

    def steep_grad(x, y):
        return float("inf"), 1.0

    surface = dataclasses.replace(SURFACES["bowl"], value_fn=steep, gradient_fn=steep_grad)
    monkeypatch.setitem(SURFACES, "bowl", surface)
    response = client.get("/api/surfaces/bowl/eval", params={"x": 500, "y": 0})
    assert response.status_code == 422 and "overflows at (500, 0)" in response.json()["detail"]
    response = client.get("/api/surfaces/bowl/eval", params={"x": 1, "y": 0})
    assert response.status_code == 422  # a finite value but an infinite gradient


def test_a_grid_that_is_not_finite_is_an_error_not_nan(client, monkeypatch):
    hole = dataclasses.replace(
        SURFACES["bowl"], value_fn=lambda x, y: np.where(x > 0, np.inf, x + y)
    )
    monkeypatch.setitem(SURFACES, "bowl", hole)
    response = client.get("/api/surfaces/bowl/grid", params={"n": 3})
    assert response.status_code == 500 and "not finite" in response.json()["detail"]


def test_openapi_shows_the_schemas(client):
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert {"/api/surfaces", "/api/surfaces/{name}/eval", "/api/surfaces/{name}/grid"} <= set(
        spec["paths"]
    )
    schemas = spec["components"]["schemas"]
    assert set(schemas["SurfaceInfo"]["properties"]) == FIELDS
    assert set(schemas["Grid"]["properties"]) == {"x", "y", "z"}
    grid = spec["paths"]["/api/surfaces/{name}/grid"]["get"]
    n = next(p for p in grid["parameters"] if p["name"] == "n")["schema"]
    assert (n["minimum"], n["maximum"], n["default"]) == (2, 400, 120)
