"""Classify a drawn digit: one function shared by the HTTP route and the training socket."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.mnist.digits import canvas_from_flat, preprocess
from app.mnist.network import Network

__all__ = ["classify"]


def classify(network: Network, width: int, height: int, pixels: Sequence[float]) -> dict:
    """Return {digit, probabilities, input, activations} for a row-major drawing.

    ``probabilities`` are the softmax outputs of a cross-entropy network; a
    sigmoid-output (quadratic cost) network's outputs are each in (0, 1) but do
    not sum to 1, so they are divided by their sum. ``input`` is the preprocessed
    28×28 image the network saw, ``activations`` its hidden layers' values.
    Raises EmptyCanvasError (a ValueError) for a blank canvas, ValueError for bad input.
    """
    x = preprocess(canvas_from_flat(width, height, pixels))
    output = network.forward(x[None, :])[0].astype(np.float64)
    hidden = network.activations(x)
    if not (np.all(np.isfinite(output)) and all(np.all(np.isfinite(a)) for a in hidden)):
        raise ValueError("the network's outputs are not finite numbers: its training diverged")
    total = output.sum()
    # Renormalised in float64 in both cases, so the ten values sum to 1 to the last digit.
    if total > 0.0:
        probabilities = output / total
    else:  # every sigmoid output underflowed to 0: nothing to prefer
        probabilities = np.full(len(output), 1.0 / len(output))
    return {
        "digit": int(np.argmax(probabilities)),
        "probabilities": [float(p) for p in probabilities],
        "input": [float(v) for v in x],
        "activations": [[float(v) for v in a] for a in hidden],
    }
