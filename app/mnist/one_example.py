"""One example's backprop, as the 3Blue1Brown videos draw it: what one digit asks of
every output, every hidden neuron and every weight.

For one drawing and the label a person picks, the example's own cost C (not a batch
mean) and, layer by layer:

- the *desired nudges* −∂C/∂a of each layer's activations. With the quadratic cost
  C = Σ (a_k − y_k)², the output layer's are 2(y_k − a_k): positive for the right
  digit, negative for the others, each sized by how far its output is off. They flow
  back through the weights: a hidden layer's nudges are Wᵀ·(the next layer's nudges
  times σ'(z)) — exactly backpropagation's ∂C/∂a;
- the gradients ∂C/∂W and ∂C/∂b, whose negatives are the changes this one example
  asks for; the first layer's rows are 28×28 images, one per hidden neuron.

Computed in float64 on a copy of the network, so finite differences can check it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.mnist.digits import canvas_from_flat, preprocess
from app.mnist.evaluation import probabilities
from app.mnist.network import Network

__all__ = ["example_backprop", "example_gradients"]

#: a probability below this counts as this for −1/p (cross-entropy's ∂C/∂p), to stay finite
TINY = 1e-300


def example_gradients(network: Network, x: np.ndarray, label: int) -> dict:
    """Cost, activations, nudges (−∂C/∂a per layer, hidden first) and ∂C/∂W, ∂C/∂b for
    one input x (784,) with this label, in float64."""
    if isinstance(label, bool) or not isinstance(label, int | np.integer):
        raise ValueError(f"the label must be a whole number from 0 to 9, not {label!r}")
    n_out = network.sizes[-1]
    if not 0 <= label < n_out:
        raise ValueError(f"the label must lie between 0 and {n_out - 1}, not {label}")
    net = Network(network.sizes, network.activation, network.cost_name, dtype=np.float64)
    net.flat[...] = network.flat
    x = np.asarray(x, dtype=np.float64).reshape(1, -1)
    y = np.zeros((1, n_out))
    y[0, label] = 1.0
    nabla_w, nabla_b, cost = net.backprop(x, y)
    zs, activations = net.feedforward(x)
    out = activations[-1][0]
    if net.cost_name == "quadratic":
        d_a = 2.0 * (out - y[0])  # ∂C/∂a of C = Σ (a − y)²
        delta = d_a * out * (1.0 - out)  # ∂C/∂z, σ' = a(1 − a)
    else:
        d_a = np.where(y[0] > 0, -1.0 / np.maximum(out, TINY), 0.0)  # C = −log p_label
        delta = out - y[0]  # softmax with cross-entropy: ∂C/∂z = p − y
    d_activations = [d_a]
    for layer in range(len(net.weights) - 1, 0, -1):
        d_a = delta @ net.weights[layer]  # ∂C/∂a of the layer below
        d_activations.append(d_a)
        delta = d_a * net._hidden_prime(zs[layer - 1][0], activations[layer][0])
    return {
        "cost": float(cost),
        "output": out,
        "hidden": [a[0] for a in activations[1:-1]],
        "nudges": [-d for d in reversed(d_activations)],
        "weights": nabla_w,
        "biases": nabla_b,
    }


def example_backprop(
    network: Network, width: int, height: int, pixels: Sequence[float] | np.ndarray, label: int
) -> dict:
    """For a drawing (row-major gray levels 0..1) and a label: the reply of
    ``POST /api/mnist/backprop``. Raises ValueError (EmptyCanvasError included) for a bad
    canvas or label, and when the network's numbers are not finite."""
    x = preprocess(canvas_from_flat(width, height, pixels))
    found = example_gradients(network, x, label)
    arrays = [found["output"], *found["hidden"], *found["nudges"], *found["weights"],
              *found["biases"]]  # fmt: skip
    if not (np.isfinite(found["cost"]) and all(np.isfinite(a).all() for a in arrays)):
        raise ValueError("the network's numbers are not finite: its training diverged")
    shown = probabilities(found["output"][None, :])[0]
    return {
        "digit": int(np.argmax(shown)),
        "label": int(label),
        "probabilities": shown.tolist(),
        "input": x.astype(np.float64).tolist(),
        "activations": [a.tolist() for a in found["hidden"]],
        "cost": found["cost"],
        "nudges": [n.tolist() for n in found["nudges"]],
        "gradients": {
            "weights": [w.tolist() for w in found["weights"]],
            "biases": [b.tolist() for b in found["biases"]],
        },
    }
