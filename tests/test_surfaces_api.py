"""/api/surfaces: the list, one point, a grid; clear 404 and 422 details."""

import json
import math

import pytest

from app.surfaces import SURFACES


def strict(response):
    return json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} in a response"))


def test_list_describes_every_surface(client):
    listed = strict(client.get("/api/surfaces"))
    assert [s["name"] for s in listed] == list(SURFACES)
    rosenbrock = next(s for s in listed if s["name"] == "rosenbrock")
    assert rosenbrock["minima"] == [[1.0, 1.0]] and rosenbrock["log_color"] is True
    assert rosenbrock["domain"] == [[-2.0, 2.0], [-1.0, 3.0]]
    for s in listed:
        assert set(s) >= {"title", "formula", "default_start", "default_lr", "min_value"}


def test_eval_gives_value_and_gradient(client):
    body = strict(client.get("/api/surfaces/himmelblau/eval", params={"x": 1, "y": 2}))
    assert body["value"] == SURFACES["himmelblau"].value(1.0, 2.0)
    assert body["gradient"] == list(SURFACES["himmelblau"].gradient(1.0, 2.0))


def test_grid_follows_plotly_convention(client):
    body = strict(client.get("/api/surfaces/booth/grid", params={"n": 7}))
    assert len(body["x"]) == 7 and len(body["z"]) == 7 and len(body["z"][0]) == 7
    x, y = body["x"][2], body["y"][5]
    assert body["z"][5][2] == pytest.approx(SURFACES["booth"].value(x, y))
    assert all(math.isfinite(v) for row in body["z"] for v in row)


@pytest.mark.parametrize(
    ("url", "status", "words"),
    [
        ("/api/surfaces/moon/eval?x=1&y=1", 404, "no surface called 'moon'"),
        ("/api/surfaces/moon/grid", 404, "choose from"),
        ("/api/surfaces/bowl/eval?x=nan&y=1", 422, "finite"),
        ("/api/surfaces/bowl/eval?x=1&y=inf", 422, "finite"),
        ("/api/surfaces/bowl/eval?x=1e7&y=1", 422, "between"),
        ("/api/surfaces/bowl/eval?x=one&y=1", 422, "x: input should be a valid number"),
        ("/api/surfaces/bowl/eval?x=1", 422, "y: field required"),
        ("/api/surfaces/bowl/grid?n=1", 422, "n: input should be greater than or equal to 2"),
        ("/api/surfaces/bowl/grid?n=100000", 422, "less than or equal to 400"),
    ],
)
def test_errors_explain_themselves(client, url, status, words):
    response = client.get(url)
    assert response.status_code == status
    assert words in response.json()["detail"].lower()


def test_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    assert "/api/surfaces/{name}/grid" in client.get("/openapi.json").json()["paths"]
