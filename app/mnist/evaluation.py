"""Where the network fails: its answers on the test split, counted as a confusion matrix.

Rows of the matrix are the true digits, columns the predicted ones, so the diagonal
holds the digits it gets right and every other cell a kind of mistake ("a 4 read as
a 9"); ``mistakes`` lists the test digits behind each such cell, in stored order.
"""

from __future__ import annotations

import numpy as np

from app.mnist.network import Network

__all__ = [
    "cell_mistakes",
    "confusion_matrix",
    "evaluate_network",
    "mistakes",
    "outputs",
    "predictions",
    "probabilities",
]

N_CLASSES = 10
BLOCK = 2000  # rows per forward pass: bounded memory on the full 10,000-digit test split


def outputs(network: Network, x: np.ndarray) -> np.ndarray:
    """The network's outputs (N, 10) for inputs x (N, 784), a block of rows at a time."""
    parts = [network.forward(x[start : start + BLOCK]) for start in range(0, len(x), BLOCK)]
    return np.concatenate(parts) if parts else np.zeros((0, network.sizes[-1]), network.dtype)


def predictions(network: Network, x: np.ndarray) -> np.ndarray:
    """The digit each input is read as: the largest output's index."""
    with np.errstate(all="ignore"):
        return outputs(network, x).argmax(axis=1)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """(10, 10) int counts: ``[t][p]`` = how many digits labelled t were read as p."""
    labels, predicted = np.asarray(labels, np.int64), np.asarray(predicted, np.int64)
    if labels.shape != predicted.shape:
        raise ValueError("labels and predictions must have the same length")
    cells = np.bincount(labels * N_CLASSES + predicted, minlength=N_CLASSES * N_CLASSES)
    return cells.reshape(N_CLASSES, N_CLASSES)


def mistakes(labels: np.ndarray, predicted: np.ndarray) -> dict[str, list[int]]:
    """{"t,p": [indices…]} for every off-diagonal cell that holds a digit, indices ascending."""
    labels, predicted = np.asarray(labels), np.asarray(predicted)
    wrong = np.flatnonzero(labels != predicted)
    found: dict[str, list[int]] = {}
    for index in wrong:
        found.setdefault(f"{labels[index]},{predicted[index]}", []).append(int(index))
    return found


def evaluate_network(network: Network, x: np.ndarray, labels: np.ndarray) -> dict:
    """{accuracy, cost, confusion, mistakes} of ``network`` on inputs x with integer labels.

    ``cost`` is None when it is not a finite number (a diverged network): never NaN.
    """
    labels = np.asarray(labels, np.int64)
    onehot = np.eye(N_CLASSES, dtype=network.dtype)[labels]
    with np.errstate(all="ignore"):
        out = outputs(network, x)
        cost = network.cost(x, onehot) if len(x) else 0.0
    predicted = out.argmax(axis=1)
    return {
        "accuracy": float(np.mean(predicted == labels)) if len(labels) else 0.0,
        "cost": cost if np.isfinite(cost) else None,
        "confusion": confusion_matrix(labels, predicted).tolist(),
        "mistakes": mistakes(labels, predicted),
    }


def probabilities(out: np.ndarray) -> np.ndarray:
    """Outputs as probabilities, as ``classify`` shows them: a softmax already sums to 1;
    a quadratic-cost network's ten sigmoids are divided by their sum (uniform where all are 0)."""
    out = np.asarray(out, dtype=np.float64)
    total = out.sum(axis=1, keepdims=True)
    with np.errstate(all="ignore"):
        scaled = out / total
    return np.where(total > 0, scaled, 1.0 / out.shape[1])


def cell_mistakes(
    network: Network, x: np.ndarray, labels: np.ndarray, true: int, predicted: int, limit: int
) -> dict:
    """The test digits labelled ``true`` that ``network`` reads as ``predicted``:
    {total, indices (the first ``limit``, in stored order), probabilities per digit}."""
    labels = np.asarray(labels)
    with np.errstate(all="ignore"):
        out = outputs(network, x)
    found = np.flatnonzero((labels == true) & (out.argmax(axis=1) == predicted))
    shown = found[:limit]
    p = probabilities(out[shown]) if len(shown) else np.zeros((0, out.shape[1]))
    finite = np.isfinite(p).all(axis=1)
    return {
        "total": int(len(found)),
        "indices": [int(k) for k in shown[finite]],
        "probabilities": np.round(p[finite], 4).tolist(),
    }
