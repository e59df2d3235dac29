"""The network's cost over a plane through its 13,002-dimensional parameter space.

After Li, Xu, Taylor, Studer and Goldstein, "Visualizing the Loss Landscape of Neural
Nets" (2018), and their code (tomgoldstein/loss-landscape). The plane passes through
the current parameters θ* (``center``) along two directions d1, d2; cell (i, j) of
the grid is the mean cost of the network moved to θ* + a[i]·d1 + b[j]·d2. Two ways
to pick the directions:

- ``pca``: the top two principal directions of the parameter vectors the training
  visited (§7: random directions are nearly orthogonal to the path, which lies in
  few dimensions). ``explained`` is their share of the path's variance. A caveat the
  page repeats: the PCA of *any* long random walk in many dimensions also puts most
  of its variance in a few components, so a large share says little by itself.
- ``random``: filter-normalised Gaussian directions (§4): each neuron's incoming
  weights scaled to the norm of that neuron's weights in θ*, biases 0, so the picture
  shows how sharp the minimum is at the scale of the weights themselves.

Either way it is a 2-D slice of a 13,002-dimensional function: a valley in the slice
may be a saddle in a direction the slice leaves out.

The grid is evaluated without a Python loop over its cells doing whole forward
passes. A layer's weighted input is linear in (a, b): with W = Wc + a·D1 + b·D2,
``X·Wᵀ = X·Wcᵀ + a·X·D1ᵀ + b·X·D2ᵀ``. The first layer — 784 inputs, nearly all the
work — sees the same X in every cell, so its three products (one product with the
three matrices stacked) are made once, and every cell's z is then [1, a, b] times
them: for a chunk of cells one more product, (cells × 3)·(3 × n·h1). The small
layers after it take each cell's own weights (Wc + a·D1 + b·D2, formed for all cells
at once) in one batched matrix product over the chunk.

Parameters are vectors in ``Network.flat``'s order (weights, then biases); DESIGN.md's
order (W1, b1, W2, b2, …, each row-major) is ``design_order``'s permutation of it.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from app.mnist.network import ACTIVATIONS, Network, log_softmax

__all__ = [
    "METHODS",
    "ParameterPath",
    "design_order",
    "filter_normalized_directions",
    "landscape",
    "pca_directions",
    "plane_costs",
    "project",
]

METHODS = ("pca", "random")
#: bytes the recorded path may hold per training (a 13,002-parameter net: 128 vectors)
PATH_BYTES = 8 * 2**20
MAX_PATH = 128
#: elements of one (cells, samples, neurons) block: bounds the grid's working memory
CHUNK_ELEMENTS = 2**21
#: pca grids reach this far beyond the path's extent along each direction (× span)
PCA_MARGIN = 1.1


@dataclass(frozen=True)
class Layer:
    """Where one layer's weights (n_out, n_in) and biases (n_out,) sit in ``Network.flat``."""

    n_in: int
    n_out: int
    w: slice
    b: slice


def layers_of(sizes: Sequence[int]) -> list[Layer]:
    """The layers of a network of these sizes, as ``Network`` lays them out (weights first)."""
    pairs = list(zip(sizes[:-1], sizes[1:], strict=False))
    weights_total = sum(n_in * n_out for n_in, n_out in pairs)
    layers, w_at, b_at = [], 0, weights_total
    for n_in, n_out in pairs:
        layers.append(
            Layer(n_in, n_out, slice(w_at, w_at + n_in * n_out), slice(b_at, b_at + n_out))
        )
        w_at += n_in * n_out
        b_at += n_out
    return layers


def design_order(sizes: Sequence[int]) -> np.ndarray:
    """Indices into ``Network.flat`` that list it as W1, b1, W2, b2, … (DESIGN.md's order)."""
    parts = []
    for layer in layers_of(sizes):
        parts += [np.arange(layer.w.start, layer.w.stop), np.arange(layer.b.start, layer.b.stop)]
    return np.concatenate(parts)


# --- the visited parameters ------------------------------------------------------------


class ParameterPath:
    """The parameter vectors a training visited, in order, in bounded memory.

    Recorded at every evaluation (from the evaluator thread) and read by the landscape
    (another thread), hence the lock. When full, every second vector is dropped — the
    first and the latest are kept — so the path stays evenly spaced over the training.
    """

    def __init__(self, parameter_count: int) -> None:
        self.capacity = max(8, min(MAX_PATH, PATH_BYTES // (4 * max(parameter_count, 1))))
        self._steps: list[int] = []
        self._vectors: list[np.ndarray] = []
        self._lock = threading.Lock()

    def record(self, step: int, flat: np.ndarray) -> None:
        """Remember the parameters at ``step`` (a float32 copy); a step seen already is skipped."""
        with self._lock:
            if self._steps and step <= self._steps[-1]:
                return
            self._steps.append(int(step))
            self._vectors.append(np.array(flat, dtype=np.float32))
            if len(self._vectors) > self.capacity:
                keep = list(range(0, len(self._vectors) - 1, 2)) + [len(self._vectors) - 1]
                self._steps = [self._steps[k] for k in keep]
                self._vectors = [self._vectors[k] for k in keep]

    def vectors(self) -> tuple[list[int], list[np.ndarray]]:
        """(steps, vectors) recorded so far: lists of their own, safe to read while recording."""
        with self._lock:
            return list(self._steps), list(self._vectors)

    def __len__(self) -> int:
        with self._lock:
            return len(self._steps)


# --- the two ways to pick a plane -------------------------------------------------------


def pca_directions(path: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[float]]:
    """(d1, d2, explained): the top two principal directions of the rows of ``path``.

    As Li et al. do (scikit-learn's PCA of θ_i − θ_final), the rows are centred on their
    mean; d1, d2 are unit length and orthogonal; ``explained`` their shares of the
    path's variance. Each direction's sign is chosen so the path starts at negative
    coordinates. A ValueError when the path spans fewer than two dimensions.
    """
    path = np.asarray(path, dtype=np.float64)
    if len(path) < 3:
        raise ValueError(
            "the training has visited too few points for principal directions yet: "
            "let it run until a second evaluation"
        )
    centred = path - path.mean(axis=0)
    # The thin SVD through the small T × T Gram matrix: T ≪ the parameter count.
    gram = centred @ centred.T
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1]
    values, vectors = np.clip(values[order], 0.0, None), vectors[:, order]
    total = float(values.sum())
    if total <= 0.0 or values[1] <= 1e-12 * values[0]:
        raise ValueError(
            "the parameters have hardly moved (the path spans fewer than two directions): "
            "nothing for principal directions to show yet"
        )
    directions = []
    for k in range(2):
        d = centred.T @ vectors[:, k]
        d /= np.linalg.norm(d)
        if (path[0] - path[-1]) @ d > 0:
            d = -d
        directions.append(d)
    return directions[0], directions[1], [float(values[0] / total), float(values[1] / total)]


def filter_normalized_directions(
    center: np.ndarray, sizes: Sequence[int], seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian directions shaped like the parameters, filter-normalised (Li et al. §4).

    For a dense layer a filter is one neuron's incoming weights: each such row of a
    direction is scaled to the norm of the same row of ``center``; biases are 0.
    """
    rng = np.random.default_rng(seed)
    center = np.asarray(center, dtype=np.float64)
    directions = []
    for _ in range(2):
        d = np.zeros_like(center)
        for layer in layers_of(sizes):
            shape = (layer.n_out, layer.n_in)
            w = center[layer.w].reshape(shape)
            r = rng.standard_normal(shape)
            r *= (np.linalg.norm(w, axis=1) / (np.linalg.norm(r, axis=1) + 1e-10))[:, None]
            d[layer.w] = r.ravel()
        directions.append(d)
    return directions[0], directions[1]


def project(vectors: np.ndarray, center: np.ndarray, d1: np.ndarray, d2: np.ndarray) -> np.ndarray:
    """(T, 2) coordinates (a, b) with vector ≈ center + a·d1 + b·d2, by least squares.

    For orthonormal d1, d2 (pca) these are the dot products (θ − center)·d; for random
    directions, which are only nearly orthogonal, the same formula as the grid's.
    """
    basis = np.stack([d1, d2]).astype(np.float64)
    offsets = np.asarray(vectors, dtype=np.float64) - np.asarray(center, dtype=np.float64)
    return np.linalg.solve(basis @ basis.T, basis @ offsets.T).T


# --- the grid ------------------------------------------------------------------------------


def plane_costs(
    network: Network,
    center: np.ndarray,
    d1: np.ndarray,
    d2: np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    x: np.ndarray,
    onehot: np.ndarray,
) -> np.ndarray:
    """(len(b), len(a)): ``[j][i]`` = mean cost of ``network``'s architecture with
    parameters center + a[i]·d1 + b[j]·d2 on inputs x against one-hot labels.

    ``network`` only lends its sizes, activation and cost; its parameters are not used.
    In float32; a cost that is not finite stays NaN here (``landscape`` turns it into None).
    """
    dtype = np.float32
    x = np.ascontiguousarray(x, dtype=dtype)
    onehot = np.asarray(onehot, dtype=dtype)
    layers = layers_of(network.sizes)
    weights = [_weights(layer, center, d1, d2, dtype) for layer in layers]
    biases = [_biases(layer, center, d1, d2, dtype) for layer in layers]
    cells_a, cells_b = (v.ravel().astype(dtype) for v in np.meshgrid(a, b))
    n, widest = len(x), max(network.sizes[1:])
    chunk = max(1, CHUNK_ELEMENTS // (n * widest))
    first = _first_layer(x, weights[0], biases[0])
    costs = np.empty(len(cells_a), dtype=np.float64)
    with np.errstate(all="ignore"):
        for start in range(0, len(cells_a), chunk):
            ca, cb = cells_a[start : start + chunk], cells_b[start : start + chunk]
            coefficients = np.stack([np.ones_like(ca), ca, cb], axis=1)  # (cells, 3)
            # The first layer: z = [1, a, b] · (X·Wᵀ + bias for Wc, D1, D2): one product.
            z = (coefficients @ first).reshape(len(ca), n, -1)
            for k in range(1, len(layers)):
                act = _activate(network.activation, z)
                # Every cell's own weights (cells, n_out, n_in): small, cheap to form.
                w = np.einsum("cj,jok->cok", coefficients, weights[k])
                z = np.matmul(act, w.transpose(0, 2, 1))
                z += (coefficients @ biases[k])[:, None, :]
            if network.activation == "step":  # the outputs step too (app.mnist.network)
                z = np.where(z > 0, np.inf, -np.inf).astype(dtype)  # σ of these: 1 or 0
            costs[start : start + chunk] = _mean_costs(network.cost_name, z, onehot)
    return costs.reshape(len(b), len(a))


def _weights(layer: Layer, center, d1, d2, dtype) -> np.ndarray:
    """(3, n_out, n_in): the layer's weights in center, d1 and d2."""
    shape = (layer.n_out, layer.n_in)
    return np.stack([np.asarray(v[layer.w], dtype=dtype).reshape(shape) for v in (center, d1, d2)])


def _biases(layer: Layer, center, d1, d2, dtype) -> np.ndarray:
    """(3, n_out): the layer's biases in center, d1 and d2."""
    return np.stack([np.asarray(v[layer.b], dtype=dtype) for v in (center, d1, d2)])


def _first_layer(x: np.ndarray, weights: np.ndarray, biases: np.ndarray) -> np.ndarray:
    """(3, n·h1): X·Wᵀ + bias for center, d1 and d2 — one product, the same for every cell."""
    three, h, n_in = weights.shape
    products = x @ weights.reshape(three * h, n_in).T  # (n, 3·h)
    products = products.reshape(len(x), three, h).transpose(1, 0, 2) + biases[:, None, :]
    return np.ascontiguousarray(products.reshape(three, -1))


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    """A hidden layer's activation, in place where it can be."""
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "relu":
        return np.maximum(z, 0.0, out=z)
    return np.asarray(ACTIVATIONS[name][0](z), dtype=z.dtype)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = ½ + ½·tanh(z/2), in place (never overflows)."""
    z *= 0.5
    np.tanh(z, out=z)
    z *= 0.5
    z += 0.5
    return z


def _mean_costs(cost: str, z: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Each cell's mean cost over the samples, from the output layer's z (cells, n, 10)."""
    n = z.shape[1]
    if cost == "quadratic":
        error = _sigmoid(z)
        error -= onehot
        np.square(error, out=error)
        return error.sum(axis=(1, 2), dtype=np.float64) / n
    picked = np.einsum("cnk,nk->cn", log_softmax_3d(z), onehot)
    return -picked.sum(axis=1, dtype=np.float64) / n


def log_softmax_3d(z: np.ndarray) -> np.ndarray:
    """``log_softmax`` over the last axis of a (cells, n, k) block."""
    return log_softmax(z.reshape(-1, z.shape[-1])).reshape(z.shape)


# --- all of it ------------------------------------------------------------------------------


def landscape(
    network: Network,
    center: np.ndarray,
    path: Sequence[np.ndarray],
    x: np.ndarray,
    onehot: np.ndarray,
    n: int = 41,
    span: float = 1.0,
    method: str = "pca",
    directions: bool = False,
    seed: int = 0,
) -> dict:
    """The ``landscape`` message of DESIGN.md (without its ``type``) for parameters ``center``.

    ``path``: the visited parameter vectors in order (``center``, the latest, is added at
    the end if it is not there yet). The grid spans a ∈ [−span, span] (and b alike) in
    the directions' own units for ``random``; for ``pca`` it spans span × 1.1 × the
    path's extent along each direction, so that span 1 shows the whole path.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    center = np.asarray(center, dtype=np.float64)
    if not np.isfinite(center).all():
        raise ValueError("the parameters are not finite numbers: the training diverged")
    visited = [np.asarray(v, dtype=np.float64) for v in path]
    visited = [v for v in visited if np.isfinite(v).all()]  # a diverging step's, if any
    if not visited or not np.array_equal(visited[-1], center):
        visited.append(center)
    visited_array = np.stack(visited)
    explained = None
    if method == "pca":
        d1, d2, explained = pca_directions(visited_array)
    else:
        d1, d2 = filter_normalized_directions(center, network.sizes, seed)
    coordinates = project(visited_array, center, d1, d2)
    if method == "pca":
        reach = np.abs(coordinates).max(axis=0)
        reach = np.where(reach > 0, reach, 1.0) * PCA_MARGIN * span
    else:
        reach = np.array([span, span])
    a = np.linspace(-reach[0], reach[0], n)
    b = np.linspace(-reach[1], reach[1], n)
    cost = plane_costs(network, center, d1, d2, a, b, x, onehot)
    result = {
        "method": method,
        "a": a.tolist(),
        "b": b.tolist(),
        "cost": [[_finite(v) for v in row] for row in cost],
        "path": [[_finite(p) for p in point] for point in coordinates],
        "explained": explained,
    }
    if directions:
        order = design_order(network.sizes)
        for name, vector in (("center", center), ("d1", d1), ("d2", d2)):
            result[name] = vector[order].tolist()
    return result


def _finite(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None
