"""Do digits drawn big and off-centre classify as well as centred ones?

Every test digit is drawn onto a 280×280 canvas in two ways — centred at the
size a person usually draws (×7, 196 px) and large in a corner (×9.5, 266 px,
pushed to the top left) — then preprocessed exactly as the page's drawings are
(``app.mnist.digits.preprocess``) and classified by a network trained with
``gdviz train``'s defaults.  Prints both accuracies and the untouched baseline.
"""

from __future__ import annotations

import json

import numpy as np

from app.mnist.data import load_mnist
from app.mnist.digits import preprocess
from app.mnist.training import TrainConfig, Trainer

CANVAS = 280


def upscale(image28: np.ndarray, side: int) -> np.ndarray:
    """Area-interpolated blow-up of a 28×28 digit to side×side (a smooth, drawn-looking digit)."""
    edges = np.linspace(0, 28, side + 1)
    weights = np.clip(
        np.minimum(edges[1:, None], np.arange(1, 29)[None, :])
        - np.maximum(edges[:-1, None], np.arange(28)[None, :]),
        0,
        None,
    ) / (28 / side)
    return weights @ image28.reshape(28, 28) @ weights.T


def on_canvas(image28: np.ndarray, side: int, top: int, left: int) -> np.ndarray:
    canvas = np.zeros((CANVAS, CANVAS))
    canvas[top : top + side, left : left + side] = np.clip(upscale(image28, side), 0, 1)
    return canvas


def accuracy(network, inputs: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(network.forward(inputs), axis=1) == labels))


def measure() -> dict:
    data = load_mnist()
    trainer = Trainer(TrainConfig(), data)
    trainer.run(trainer.total_steps)
    network = trainer.network
    centred = np.array([preprocess(on_canvas(x, 196, 42, 42)) for x in data.x_test])
    corner = np.array([preprocess(on_canvas(x, 266, 0, 0)) for x in data.x_test])
    return {
        "source": data.source,
        "test_digits": len(data.y_test),
        "as_stored": accuracy(network, data.x_test, data.y_test),
        "drawn_centred": accuracy(network, centred.astype(np.float32), data.y_test),
        "drawn_large_in_a_corner": accuracy(network, corner.astype(np.float32), data.y_test),
    }


if __name__ == "__main__":
    print(json.dumps(measure(), indent=2))
