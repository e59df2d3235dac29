"""Where it fails and the landscape, over HTTP and /ws/train: test digits, the saved
network's evaluation and layers, confusion in every eval, a cell's mistakes, landscapes."""

import base64
import json

import numpy as np
import pytest

from app.mnist.evaluation import evaluate_network
from app.mnist.model_store import save_network
from app.mnist.network import Network
from tests.test_train_ws import SMALL, receive, status


@pytest.fixture
def saved(mnist):
    net = Network(seed=7)
    save_network(net, metadata={"test_accuracy": 0.25})
    return net


def test_test_digits_are_the_split_in_stored_order_as_bytes(client, mnist):
    page = client.get("/api/mnist/test-digits", params={"start": 5, "count": 3}).json()
    assert page["total"] == len(mnist.y_test) and page["labels"] == mnist.y_test[5:8].tolist()
    pixels = np.frombuffer(base64.b64decode(page["images"][1]), np.uint8)
    assert pixels.shape == (784,)
    np.testing.assert_allclose(pixels / 255, mnist.x_test[6], atol=0.5 / 255 + 1e-6)
    end = client.get("/api/mnist/test-digits", params={"start": len(mnist.y_test) - 2}).json()
    assert len(end["labels"]) == 2
    for bad in ({"count": 1001}, {"count": 0}, {"start": -1}, {"start": 10**7}):
        response = client.get("/api/mnist/test-digits", params=bad)
        assert response.status_code == 422 and response.json()["detail"]


def test_evaluation_and_model_need_a_saved_network(client, mnist):
    for route in ("/api/mnist/evaluation", "/api/mnist/model"):
        response = client.get(route)
        assert response.status_code == 409 and "no trained network" in response.json()["detail"]


def test_evaluation_of_the_saved_network(client, mnist, saved):
    result = client.get("/api/mnist/evaluation").json()
    direct = evaluate_network(saved, mnist.x_test, mnist.y_test)
    assert result["confusion"] == direct["confusion"] and result["mistakes"] == direct["mistakes"]
    assert sum(map(sum, result["confusion"])) == len(mnist.y_test)
    assert result["accuracy"] == pytest.approx(np.trace(result["confusion"]) / len(mnist.y_test))
    assert result["cost"] == pytest.approx(direct["cost"])


def test_model_returns_the_saved_layers(client, saved):
    model = client.get("/api/mnist/model").json()
    assert model["sizes"] == [784, 16, 16, 10] and model["test_accuracy"] == 0.25
    assert (model["activation"], model["cost"]) == ("sigmoid", "quadratic")
    assert np.array(model["weights"][0]).shape == (16, 784)
    np.testing.assert_allclose(model["weights"][2], saved.weights[2], rtol=1e-6)
    np.testing.assert_allclose(model["biases"][1], saved.biases[1])


def test_mistakes_of_the_saved_network_with_its_probabilities(client, mnist, saved):
    cells = client.get("/api/mnist/evaluation").json()["mistakes"]
    cell, indices = max(cells.items(), key=lambda item: len(item[1]))
    t, p = map(int, cell.split(","))
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "mistakes", "true": t, "predicted": p, "limit": 5})
        reply = receive(ws, lambda m: m["type"] in ("mistakes", "error"))[-1]
    assert reply["type"] == "mistakes" and reply["by"] == "saved"
    assert reply["total"] == len(indices) and reply["indices"] == indices[:5]
    out = saved.forward(mnist.x_test[indices[:5]])
    np.testing.assert_allclose(reply["probabilities"], out / out.sum(axis=1, keepdims=True),
                               atol=1e-4)  # fmt: skip
    assert all(np.argmax(q) == p for q in reply["probabilities"])
    image = np.frombuffer(base64.b64decode(reply["images"][0]), np.uint8)
    np.testing.assert_allclose(image / 255, mnist.x_test[indices[0]], atol=0.5 / 255 + 1e-6)


def test_evals_carry_the_confusion_and_landscapes_come_during_and_after(client, mnist):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({"type": "landscape"})
        early = receive(ws, lambda m: m["type"] == "error")[-1]
        assert early["message"].startswith("landscape: no network")
        ws.send_json({**SMALL, "epochs": 3})
        messages = receive(ws, status("finished"))
        evals = [m for m in messages if m["type"] == "eval"]
        for e in evals:
            confusion = np.array(e["confusion"])
            assert confusion.shape == (10, 10) and confusion.sum() == len(mnist.y_test)
            assert np.trace(confusion) / len(mnist.y_test) == pytest.approx(e["test_accuracy"])
        ws.send_json({"type": "landscape", "n": 11, "samples": 300, "directions": True})
        pca = receive(ws, lambda m: m["type"] in ("landscape", "error"))[-1]
        ws.send_json({"type": "landscape", "n": 7, "method": "random", "span": 0.5})
        random = receive(ws, lambda m: m["type"] in ("landscape", "error"))[-1]
        ws.send_json({"type": "landscape", "n": 2})
        bad = receive(ws, lambda m: m["type"] == "error")[-1]
    assert pca["type"] == "landscape", pca
    assert pca["method"] == "pca" and len(pca["a"]) == 11 and len(pca["cost"][0]) == 11
    assert pca["path"][-1] == [0.0, 0.0] and len(pca["path"]) == len(evals)  # every eval, once
    assert len(pca["explained"]) == 2 and sum(pca["explained"]) <= 1
    assert len(pca["center"]) == len(pca["d1"]) == len(pca["d2"]) == 13_002
    d1, d2 = np.array(pca["d1"]), np.array(pca["d2"])
    assert abs(d1 @ d2) < 1e-6 and np.linalg.norm(d1) == pytest.approx(1)
    assert min(min(row) for row in pca["cost"]) < 1  # a trained network sits in a valley
    assert random["method"] == "random" and random["explained"] is None
    assert random["a"][0] == -0.5 and "center" not in random
    assert "n" in bad["message"]
    json.dumps(pca, allow_nan=False)
