"""GET /api/surfaces/{name}/basins: DESIGN.md's layout, the maths' answer, clear 422s."""

import json

import numpy as np
import pytest

from app.basins import basin_map
from app.surfaces import SURFACES


def strict(response, status=200):
    """The JSON body, failing on NaN or Infinity (which Python's json would accept)."""
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_constant=lambda c: pytest.fail(f"{c} in a response"))


def test_basins_gives_the_maps_layout_and_values(client):
    body = strict(
        client.get(
            "/api/surfaces/himmelblau/basins",
            params={"n": 30, "optimizer": "gd", "lr": 0.01, "max_steps": 1000},
        )
    )
    assert set(body) == {"x", "y", "minimum", "steps", "minima"}
    expected = basin_map(SURFACES["himmelblau"], 30, "gd", 0.01, None, 1000)
    assert body["x"] == expected.xs.tolist() and body["y"] == expected.ys.tolist()
    assert body["x"][0] == -5.0 and body["x"][-1] == 5.0 and len(body["y"]) == 30
    assert body["minimum"] == expected.minimum.tolist()
    assert body["steps"] == expected.steps.tolist()
    assert len(body["minima"]) == 4
    assert np.allclose(sorted(body["minima"]), sorted(SURFACES["himmelblau"].minima), atol=1e-6)


def test_defaults_and_hyper(client):
    body = strict(client.get("/api/surfaces/wells/basins", params={"n": 8}))
    assert len(body["minimum"]) == 8 and len(body["minimum"][0]) == 8  # lr: the surface's
    expected = basin_map(SURFACES["wells"], 8, "gd", SURFACES["wells"].default_lr, None, 1000)
    assert body["minimum"] == expected.minimum.tolist()
    params = {"n": 10, "optimizer": "adam", "lr": 0.1, "hyper": '{"betas": [0.8, 0.99]}'}
    body = strict(client.get("/api/surfaces/bowl/basins", params=params))
    expected = basin_map(SURFACES["bowl"], 10, "adam", 0.1, {"betas": (0.8, 0.99)}, 1000)
    assert body["steps"] == expected.steps.tolist()
    assert (
        body["steps"]
        != strict(client.get("/api/surfaces/bowl/basins", params={**params, "hyper": None}))[
            "steps"
        ]
    )


def test_diverged_and_unfinished_cells_are_coded(client):
    # the saddle under gd, lr 0.1: x shrinks by 0.8 a step, y grows by 1.2
    body = strict(client.get("/api/surfaces/saddle/basins", params={"n": 5, "max_steps": 30}))
    # (0, 0) is the saddle point itself: |∇f| = 0 there, converged before any step
    assert body["minimum"] == [[-1] * 5] * 2 + [[-1, -1, 0, -1, -1]] + [[-1] * 5] * 2
    assert body["steps"] == [[30] * 5] * 2 + [[30, 30, 0, 30, 30]] + [[30] * 5] * 2
    body = strict(client.get("/api/surfaces/saddle/basins", params={"n": 5, "max_steps": 200}))
    assert body["minimum"][2] == [0] * 5 and body["minima"] == [[0.0, 0.0]]
    assert all(body["minimum"][j] == [-2] * 5 for j in (0, 1, 3, 4))
    body = strict(client.get("/api/surfaces/bowl/basins", params={"n": 4, "lr": 5}))
    assert all(c == -2 for row in body["minimum"] for c in row) and body["minima"] == []


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"n": 201}, "n"),
        ({"n": 1}, "n"),
        ({"max_steps": 100_000}, "max_steps"),
        ({"optimizer": "sgd"}, "unknown optimizer"),
        ({"lr": 0}, "lr"),
        ({"lr": "nan"}, "lr"),
        ({"hyper": "{"}, "hyper must be a JSON object"),
        ({"hyper": "[1]"}, "hyper must be a JSON object"),
        ({"hyper": '{"momentum": NaN}'}, "not a finite number"),
        ({"hyper": '{"momentum": 0.5}'}, "gd has no hyper-parameter momentum"),
        ({"optimizer": "momentum", "hyper": '{"momentum": 1.5}'}, "momentum must lie in"),
    ],
)
def test_bad_queries_get_a_readable_422(client, params, words):
    response = client.get("/api/surfaces/himmelblau/basins", params={"n": 4, **params})
    assert response.status_code == 422, response.text
    assert words in response.json()["detail"]


def test_unknown_surface_is_a_404(client):
    response = client.get("/api/surfaces/nope/basins")
    assert response.status_code == 404 and "himmelblau" in response.json()["detail"]


def test_a_map_that_takes_too_long_is_stopped_with_a_readable_422(client, monkeypatch):
    from app.web import basins_api

    monkeypatch.setattr(basins_api, "TIME_LIMIT", 0.0)
    params = {"n": 50, "optimizer": "adam", "max_steps": 5000}
    response = client.get("/api/surfaces/styblinski_tang/basins", params=params)
    assert response.status_code == 422
    detail = response.json()["detail"]
    assert "more than 0 s" in detail and "fewer starts (n) or steps (max_steps)" in detail


def test_a_typed_formula_has_a_basin_map_over_its_own_domain(client):
    """custom, as on every GET route: the formula and xmin…ymax travel with the request; a
    double well in x has two basins split at x = 0, and every cell agrees with a single run."""
    from app.descent import DescentRun
    from app.formula import formula_surface

    domain = {"xmin": -2, "xmax": 2.5, "ymin": -1, "ymax": 1}
    params = {"formula": "(x^2 - 1)^2 + y^2", "n": 12, "lr": 0.01, **domain}
    body = strict(client.get("/api/surfaces/custom/basins", params=params))
    assert body["x"][0] == -2.0 and body["x"][-1] == 2.5 and body["y"][0] == -1.0
    minima = sorted(body["minima"])
    assert len(minima) == 2
    np.testing.assert_allclose(minima, [[-1, 0], [1, 0]], atol=1e-3)
    left = body["minima"].index(minima[0])
    for j in range(len(body["y"])):
        for i, x in enumerate(body["x"]):
            assert (body["minimum"][j][i] == left) == (x < 0)
    surface = formula_surface("(x^2 - 1)^2 + y^2", ((-2, 2.5), (-1, 1)))
    for j, i in [(0, 0), (5, 7), (11, 11)]:
        run = DescentRun(surface, (body["x"][i], body["y"][j]), "gd", 0.01, max_steps=1000)
        steps = list(run)
        assert body["steps"][j][i] == len(steps) - 1 and run.state == "converged"
    refused = client.get("/api/surfaces/custom/basins", params={"formula": "z + 1"})
    assert refused.status_code == 422 and "z" in refused.json()["detail"]
    missing = client.get("/api/surfaces/custom/basins")
    assert missing.status_code == 422 and "formula" in missing.json()["detail"]
