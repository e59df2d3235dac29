"""The digit network: a fully connected net trained by backpropagation.

Written after Michael Nielsen's ``network.py`` (the code behind the book that the
3Blue1Brown videos follow), with its names — ``feedforward``, ``backprop``,
``nabla_w``, ``nabla_b``, ``delta``, ``z``, ``activation`` — but vectorised over
the whole mini-batch: a batch is a matrix with one sample per row, so one matrix
product replaces Nielsen's per-sample Python loop.

Departures from the book, all deliberate:
- rows are samples, so a layer computes ``z = a @ W.T + b`` (the book: ``W a + b``);
- the quadratic cost has no ½: it is the squared differences summed over the
  outputs and averaged over the samples, exactly as DESIGN.md states it;
- ``activation="step"`` makes every neuron, the outputs included, 1 where z > 0 and
  0 elsewhere (quadratic cost only): its derivative is 0, so the gradient is 0 and
  descent cannot move — the reason neurons must be smooth;
- ``activation="relu"`` changes the hidden layers only; with the quadratic cost
  the output layer stays sigmoid (outputs in (0, 1), comparable to a one-hot
  label), with cross-entropy it is softmax;
- every array keeps the network's dtype (float32 by default, float64 for checks):
  scalars are Python floats, which never upcast a float32 array.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "ACTIVATIONS",
    "COSTS",
    "Network",
    "relu",
    "relu_prime",
    "sigmoid",
    "sigmoid_prime",
    "step",
    "step_prime",
]


#: Below these z, e^−z would overflow. σ(z) < 2e-38 (float32), < 3e-308 (float64) there,
#: so clipping z to them changes σ by less than that.
_EXP_FLOOR = {np.dtype(np.float32): -87.0, np.dtype(np.float64): -708.0}


def sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function σ(z) = 1/(1 + e^−z) of an array, without overflow warnings."""
    t = np.maximum(z, _EXP_FLOOR.get(z.dtype, -708.0))
    np.negative(t, out=t)
    np.exp(t, out=t)
    t += 1.0
    return np.reciprocal(t, out=t)


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the sigmoid: σ'(z) = σ(z)·(1 − σ(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z: np.ndarray) -> np.ndarray:
    """The rectifier max(0, z)."""
    return np.maximum(z, 0.0)


def relu_prime(z: np.ndarray) -> np.ndarray:
    """Derivative of the rectifier: 1 where z > 0, else 0 (at the kink, 0 as torch does)."""
    return (z > 0).astype(z.dtype)


def step(z: np.ndarray) -> np.ndarray:
    """The step (Heaviside) function: 1 where z > 0, else 0 — the perceptron's activation."""
    return (z > 0).astype(z.dtype)


def step_prime(z: np.ndarray) -> np.ndarray:
    """The step's derivative: 0 wherever it exists, so no gradient flows through it."""
    return np.zeros_like(z)


ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_prime),
    "relu": (relu, relu_prime),
    "step": (step, step_prime),
}
COSTS = ("quadratic", "cross_entropy")
DTYPES = (np.float32, np.float64)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by each row's maximum so exp never overflows."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise log of the softmax, exact even where the probability underflows to 0."""
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


class Network:
    """A fully connected network: ``sizes[0]`` inputs, hidden layers, ``sizes[-1]`` outputs.

    ``weights`` and ``biases`` are views into one contiguous array ``flat``, so an
    optimizer may move all parameters in a single update (they only ever change
    in place).
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 16, 16, 10),
        activation: str = "sigmoid",
        cost: str = "quadratic",
        seed: int = 0,
        dtype: type = np.float32,
    ) -> None:
        self.sizes = _check_sizes(sizes)
        if activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {activation!r} (choose from {', '.join(ACTIVATIONS)})"
            )
        if cost not in COSTS:
            raise ValueError(f"unknown cost {cost!r} (choose from {', '.join(COSTS)})")
        if activation == "step" and cost != "quadratic":
            raise ValueError(
                "the step activation makes every output 0 or 1, never a probability: "
                "use it with the quadratic cost"
            )
        if np.dtype(dtype) not in [np.dtype(d) for d in DTYPES]:
            raise ValueError(f"dtype must be float32 or float64, not {np.dtype(dtype)}")
        self.activation = activation
        self.cost_name = cost
        self.dtype = np.dtype(dtype)
        self.act, self.act_prime = ACTIVATIONS[activation]
        self.flat, self.weights, self.biases = self._zeros_like_parameters()
        rng = np.random.default_rng(seed)
        for w in self.weights:
            # Drawn in float64 and then rounded, so a float32 and a float64 network with
            # the same seed start from the same weights.
            w[...] = rng.standard_normal(w.shape) / np.sqrt(w.shape[1])

    def _zeros_like_parameters(self) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """One zeroed flat array and its views shaped as the weights and the biases."""
        pairs = list(zip(self.sizes[:-1], self.sizes[1:], strict=True))
        shapes = [(n_out, n_in) for n_in, n_out in pairs] + [(n_out,) for _, n_out in pairs]
        flat = np.zeros(sum(math.prod(shape) for shape in shapes), dtype=self.dtype)
        views, start = [], 0
        for shape in shapes:
            views.append(flat[start : start + math.prod(shape)].reshape(shape))
            start += math.prod(shape)
        return flat, views[: len(pairs)], views[len(pairs) :]

    @property
    def parameters(self) -> list[np.ndarray]:
        """Weights then biases: the very arrays an optimizer moves in place."""
        return [*self.weights, *self.biases]

    @property
    def parameter_count(self) -> int:
        """Number of weights and biases (13,002 for 784-16-16-10)."""
        return self.flat.size

    def set_parameters(self, weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> None:
        """Copy saved weights and biases into this network's own arrays (shapes must match)."""
        if len(weights) != len(self.weights) or len(biases) != len(self.biases):
            raise ValueError(f"expected {len(self.weights)} weight and bias arrays")
        for mine, theirs in zip(self.parameters, [*weights, *biases], strict=True):
            theirs = np.asarray(theirs)
            if theirs.shape != mine.shape:
                raise ValueError(f"parameter shape {theirs.shape} does not match {mine.shape}")
            if not np.all(np.isfinite(theirs)):
                raise ValueError("parameters must be finite numbers")
            mine[...] = theirs

    # -- forward -------------------------------------------------------------

    def forward(self, X: np.ndarray) -> np.ndarray:
        """Return the outputs (N, n_out) for inputs X (N, n_in): sigmoid or softmax."""
        return self.feedforward(self._inputs(X))[1][-1]

    def feedforward(self, a: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return every layer's weighted inputs ``zs`` and ``activations`` for a batch ``a``.

        ``activations[0]`` is the input itself; ``activations[-1]`` the output.
        """
        zs, activations = [], [a]
        last = len(self.weights) - 1
        for layer, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            z = a @ w.T
            z += b
            zs.append(z)
            a = self._output(z) if layer == last else self.act(z)
            activations.append(a)
        return zs, activations

    def _output(self, z: np.ndarray) -> np.ndarray:
        if self.activation == "step":  # every neuron steps, the outputs too
            return step(z)
        return softmax(z) if self.cost_name == "cross_entropy" else sigmoid(z)

    def activations(self, x: np.ndarray) -> list[np.ndarray]:
        """Return the hidden layers' activations for one input x (n_in,) — for the diagram."""
        x = np.asarray(x, dtype=self.dtype).reshape(1, -1)
        return [a[0] for a in self.feedforward(self._inputs(x))[1][1:-1]]

    # -- cost and gradient ---------------------------------------------------

    def cost(self, X: np.ndarray, Y: np.ndarray) -> float:
        """Return the mean cost of inputs X against one-hot labels Y."""
        return self.cost_and_output(X, Y)[0]

    def cost_and_output(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, np.ndarray]:
        """Return the mean cost and the outputs (N, n_out) from one forward pass."""
        X, Y = self._inputs(X), self._targets(Y, len(X))
        zs, activations = self.feedforward(X)
        return self._cost(zs[-1], activations[-1] - Y, Y), activations[-1]

    def _cost(self, z: np.ndarray, error: np.ndarray, y: np.ndarray) -> float:
        """The mean cost, given the output layer's z and error = output − y."""
        n = len(y)
        if self.cost_name == "quadratic":
            return float(np.sum(np.square(error), dtype=np.float64)) / n
        return -float(np.sum(y * log_softmax(z), dtype=np.float64)) / n

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Return (nabla_w, nabla_b): the gradient of the mean cost over the batch."""
        nabla_w, nabla_b, _ = self.backprop(X, Y)
        return nabla_w, nabla_b

    def backprop(
        self, X: np.ndarray, Y: np.ndarray
    ) -> tuple[list[np.ndarray], list[np.ndarray], float]:
        """Return (nabla_w, nabla_b, cost) for the batch: gradient and cost from one pass.

        The batch cost falls out of the forward pass, so training can plot every
        step's cost without a second forward. (Training itself runs an engine's kernel,
        app/mnist/kernel.py or app/mnist/fast/, which tests/test_kernel.py checks against this.)
        """
        X, Y = self._inputs(X), self._targets(Y, len(X))
        zs, activations = self.feedforward(X)
        error = activations[-1] - Y
        cost = self._cost(zs[-1], error, Y)
        delta = self._output_delta(activations[-1], error)
        nabla_w = [np.empty_like(w) for w in self.weights]
        nabla_b = [np.empty_like(b) for b in self.biases]
        for layer in range(len(self.weights) - 1, -1, -1):
            np.matmul(delta.T, activations[layer], out=nabla_w[layer])
            delta.sum(axis=0, out=nabla_b[layer])
            if layer > 0:
                delta = delta @ self.weights[layer]
                delta *= self._hidden_prime(zs[layer - 1], activations[layer])
        return nabla_w, nabla_b, cost

    def _hidden_prime(self, z: np.ndarray, a: np.ndarray) -> np.ndarray:
        """σ'(z) of a hidden layer; for the sigmoid from its output a = σ(z), as a(1 − a),
        which saves computing σ(z) a second time on every step."""
        if self.activation == "sigmoid":
            prime = 1.0 - a
            prime *= a
            return prime
        return self.act_prime(z)

    def _output_delta(self, a: np.ndarray, error: np.ndarray) -> np.ndarray:
        """∂C/∂z of the output layer (error = a − y), divided by the batch size (the mean)."""
        scale = 1.0 / len(a)
        if self.activation == "step":  # ∂a/∂z = 0: the cost is flat in every parameter
            return np.zeros_like(a)
        if self.cost_name == "quadratic":
            # C = Σ (a − y)² / n with a = σ(z): ∂C/∂z = 2(a − y)·σ'(z) / n, σ' = a(1 − a).
            delta = 1.0 - a
            delta *= a
            delta *= error
            delta *= 2.0 * scale
            return delta
        # Softmax with cross-entropy: ∂C/∂z = (p − y) / n.
        return error * scale

    # -- input checks --------------------------------------------------------

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.sizes[0] or len(X) == 0:
            raise ValueError(
                f"inputs must have shape (N, {self.sizes[0]}) with N ≥ 1, not {X.shape}"
            )
        return X

    def _targets(self, Y: np.ndarray, n: int) -> np.ndarray:
        Y = np.asarray(Y, dtype=self.dtype)
        if Y.shape != (n, self.sizes[-1]):
            raise ValueError(
                f"one-hot labels must have shape ({n}, {self.sizes[-1]}), not {Y.shape}"
            )
        return Y


def _check_sizes(sizes: Sequence[int]) -> tuple[int, ...]:
    """Layer sizes as a tuple of positive ints; a clear ValueError otherwise."""
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ValueError("sizes must be a sequence of layer sizes: (784, 16, 16, 10)") from None
    if len(sizes) < 2:
        raise ValueError("a network needs at least an input and an output layer")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise ValueError(f"layer sizes must be positive integers, not {n!r}")
    return tuple(int(n) for n in sizes)
