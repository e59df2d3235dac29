"""Reference trainers that gdviz is measured against, in the same run.

Each trains the 784-16-16-10 sigmoid network with the quadratic cost and plain
mini-batch gradient descent, one pass over ``x``/``y`` (one-hot), in float32:

- ``per_sample_epoch``: the classic loop of Nielsen's ``network.py`` (backprop one
  sample at a time, then average) — the textbook baseline;
- ``vectorised_epoch``: plain vectorised NumPy, written straightforwardly;
- ``torch_epoch_factory``: PyTorch on the CPU with autograd and ``torch.optim.SGD``,
  its default threads, an evaluation per 4,000 samples (DESIGN.md's yardstick).
"""

from __future__ import annotations

import numpy as np

SIZES = (784, 16, 16, 10)
#: samples trained between evaluations: gdviz evaluates after every epoch of the
#: 4,000-digit offline sample (and every ``eval_every`` steps), DESIGN.md's yardstick
EVAL_SAMPLES = 4000
#: the training digits an evaluation's gradient sizes are taken on (as app.mnist.training)
GRADIENT_SAMPLES = 1000


def initial_parameters(seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Weights N(0, 1/n_in) and zero biases, float32, as ``app.mnist.network`` draws them."""
    rng = np.random.default_rng(seed)
    weights = [
        (rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)).astype(np.float32)
        for n_in, n_out in zip(SIZES[:-1], SIZES[1:], strict=True)
    ]
    biases = [np.zeros(n, dtype=np.float32) for n in SIZES[1:]]
    return weights, biases


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def per_sample_epoch(x, y, batch_size, lr, weights, biases) -> None:
    """One epoch, backprop per sample as in network.py (the update is the batch mean)."""
    for start in range(0, len(x), batch_size):
        nabla_w = [np.zeros_like(w) for w in weights]
        nabla_b = [np.zeros_like(b) for b in biases]
        batch = range(start, min(start + batch_size, len(x)))
        for k in batch:
            activation = x[k]
            activations, zs = [activation], []
            for w, b in zip(weights, biases, strict=True):
                z = w @ activation + b
                zs.append(z)
                activation = _sigmoid(z)
                activations.append(activation)
            delta = 2.0 * (activations[-1] - y[k]) * activation * (1.0 - activation)
            for layer in range(len(weights) - 1, -1, -1):
                nabla_w[layer] += np.outer(delta, activations[layer])
                nabla_b[layer] += delta
                if layer:
                    a = activations[layer]
                    delta = (weights[layer].T @ delta) * a * (1.0 - a)
        scale = lr / len(batch)
        for w, b, nw, nb in zip(weights, biases, nabla_w, nabla_b, strict=True):
            w -= scale * nw
            b -= scale * nb


def vectorised_epoch(x, y, batch_size, lr, weights, biases) -> None:
    """One epoch, backprop over the whole mini-batch at once: the plain NumPy way."""
    for start in range(0, len(x), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        activations = [xb]
        for w, b in zip(weights, biases, strict=True):
            activations.append(_sigmoid(activations[-1] @ w.T + b))
        out = activations[-1]
        delta = 2.0 * (out - yb) * out * (1.0 - out) / len(xb)
        for layer in range(len(weights) - 1, -1, -1):
            grad_w = delta.T @ activations[layer]
            grad_b = delta.sum(axis=0)
            if layer:
                a = activations[layer]
                delta = (delta @ weights[layer]) * a * (1.0 - a)
            weights[layer] -= lr * grad_w
            biases[layer] -= lr * grad_b


def torch_epoch_factory(seed: int = 0, threads: int | None = None, evaluation=None):
    """Return ``run(x, y, batch_size, lr)`` training a torch copy of the same network.

    As DESIGN.md judges speed: PyTorch on the CPU with its default threads (``threads``
    to pin them) and, when ``evaluation`` = (x_train_part, y_train_part, x_test, y_test)
    is given, an evaluation per EVAL_SAMPLES samples trained, as gdviz makes one after
    every epoch of the 4,000-digit offline sample, of what gdviz's ``eval`` message
    carries: the costs on both parts, the test accuracy, the confusion matrix and each
    layer's ‖∂C/∂b‖ on the first GRADIENT_SAMPLES training digits (autograd.grad of the
    biases alone, PyTorch's cheapest way to them).
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    weights, biases = initial_parameters(seed)
    layers = []
    for w, b in zip(weights, biases, strict=True):
        linear = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(w))
            linear.bias.copy_(torch.from_numpy(b))
        layers += [linear, torch.nn.Sigmoid()]
    model = torch.nn.Sequential(*layers)
    parts = [torch.from_numpy(np.array(a, dtype=np.float32)) for a in evaluation or ()]

    bias_parameters = [layer.bias for layer in layers if isinstance(layer, torch.nn.Linear)]

    def evaluate() -> tuple[float, float, float, list, list[float]]:
        x_part, y_part, x_test, y_test = parts
        with torch.no_grad():
            train_cost = ((model(x_part) - y_part) ** 2).sum(dim=1).mean()
            out = model(x_test)
            test_cost = ((out - y_test) ** 2).sum(dim=1).mean()
            truth, read = y_test.argmax(dim=1), out.argmax(dim=1)
            accuracy = (read == truth).float().mean()
            confusion = torch.bincount(truth * 10 + read, minlength=100).reshape(10, 10)
        xg, yg = x_part[:GRADIENT_SAMPLES], y_part[:GRADIENT_SAMPLES]
        cost = ((model(xg) - yg) ** 2).sum(dim=1).mean()
        norms = [float(g.norm()) for g in torch.autograd.grad(cost, bias_parameters)]
        return float(train_cost), float(test_cost), float(accuracy), confusion.tolist(), norms

    def run(x, y, batch_size, lr):
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        since_evaluation = 0
        for start in range(0, len(xt), batch_size):
            xb, yb = xt[start : start + batch_size], yt[start : start + batch_size]
            optimizer.zero_grad(set_to_none=True)
            loss = ((model(xb) - yb) ** 2).sum(dim=1).mean()
            loss.backward()
            optimizer.step()
            since_evaluation += len(xb)
            if parts and since_evaluation >= EVAL_SAMPLES:
                since_evaluation -= EVAL_SAMPLES
                evaluate()

    return run
