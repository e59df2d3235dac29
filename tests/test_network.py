"""The digit network: cost by hand, gradients vs finite differences and a second implementation."""

import subprocess
import sys

import numpy as np
import pytest

from app.mnist.network import Network, relu, relu_prime, sigmoid, sigmoid_prime
from app.optimizers import make_optimizer

COMBOS = [(a, c) for a in ("sigmoid", "relu") for c in ("quadratic", "cross_entropy")]


def batch(sizes, n, seed=1, dtype=np.float64):
    """Random inputs in [0, 1) and random one-hot labels for a net of ``sizes``."""
    rng = np.random.default_rng(seed)
    X = rng.random((n, sizes[0])).astype(dtype)
    Y = np.eye(sizes[-1], dtype=dtype)[rng.integers(0, sizes[-1], n)]
    return X, Y


def test_default_network_has_13002_parameters_and_the_design_shapes():
    net = Network()
    assert net.sizes == (784, 16, 16, 10)
    assert net.parameter_count == 784 * 16 + 16 * 16 + 16 * 10 + 16 + 16 + 10 == 13_002
    assert [w.shape for w in net.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.biases] == [(16,), (16,), (10,)]
    assert all(p.dtype == np.float32 for p in net.parameters)
    X, _ = batch(net.sizes, 5, dtype=np.float32)
    assert net.forward(X).shape == (5, 10)
    assert net.forward(X).dtype == np.float32


def test_initial_weights_are_normal_with_variance_one_over_fan_in():
    net = Network((784, 400, 10), seed=3)
    w = net.weights[0].astype(np.float64)
    assert abs(w.mean()) < 0.01 / np.sqrt(784)
    assert w.std() == pytest.approx(1 / np.sqrt(784), rel=0.01)
    assert net.weights[1].std() == pytest.approx(1 / np.sqrt(400), rel=0.05)
    assert all(not b.any() for b in net.biases)


def test_seed_fixes_the_weights_and_float32_rounds_the_float64_draw():
    a, b, c = Network(seed=5), Network(seed=5), Network(seed=6)
    assert all(np.array_equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))
    assert not np.array_equal(a.weights[0], c.weights[0])
    wide = Network(seed=5, dtype=np.float64)
    assert np.array_equal(wide.weights[0].astype(np.float32), a.weights[0])


def test_quadratic_cost_by_hand_has_no_half():
    net = Network((2, 2), cost="quadratic", dtype=np.float64)
    net.set_parameters([np.array([[1.0, 0.0], [0.0, -2.0]])], [np.array([0.0, 1.0])])
    X = np.array([[0.0, 1.0], [2.0, 0.5]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    # sample 1: z = (0, -1); sample 2: z = (2, 0)
    expected = ((s(0) - 1) ** 2 + s(-1) ** 2 + s(2) ** 2 + (s(0) - 1) ** 2) / 2
    assert net.cost(X, Y) == pytest.approx(expected, rel=1e-14)


def test_cross_entropy_cost_by_hand():
    net = Network((2, 3), cost="cross_entropy", dtype=np.float64)
    net.set_parameters([np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])], [np.zeros(3)])
    X = np.array([[1.0, 2.0], [0.0, 0.0]])
    Y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    p1 = np.exp(2.0) / (np.exp(1.0) + np.exp(2.0) + np.exp(3.0))
    expected = (-np.log(p1) - np.log(1 / 3)) / 2
    assert net.cost(X, Y) == pytest.approx(expected, rel=1e-14)
    assert net.forward(X).sum(axis=1) == pytest.approx([1.0, 1.0], rel=1e-15)


def test_cross_entropy_cost_stays_finite_when_a_probability_underflows():
    net = Network((1, 2), cost="cross_entropy", dtype=np.float32)
    net.set_parameters([np.array([[200.0], [-200.0]])], [np.zeros(2)])
    cost = net.cost(np.array([[1.0]]), np.array([[0.0, 1.0]]))
    assert cost == pytest.approx(400.0, rel=1e-6)  # −log softmax = 400, though p = 0 in float32


def test_activations_and_their_derivatives():
    z = np.array([-1000.0, -2.0, 0.0, 3.0, 1000.0])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow at ±1000
        s = sigmoid(z)
    assert s == pytest.approx(1 / (1 + np.exp(-np.clip(z, -700, 700))), rel=1e-15, abs=1e-300)
    h = 1e-6
    inner = z[1:4]
    numeric = (sigmoid(inner + h) - sigmoid(inner - h)) / (2 * h)
    assert sigmoid_prime(inner) == pytest.approx(numeric, rel=1e-8)
    assert list(relu(z)) == [0, 0, 0, 3, 1000]
    assert list(relu_prime(z)) == [0, 0, 0, 1, 1]


def numeric_gradient(net, X, Y, param, index, h=1e-6):
    """Central difference of the cost in one parameter entry."""
    old = param[index]
    param[index] = old + h
    up = net.cost(X, Y)
    param[index] = old - h
    down = net.cost(X, Y)
    param[index] = old
    return (up - down) / (2 * h)


@pytest.mark.parametrize("activation, cost", COMBOS)
def test_every_gradient_entry_matches_central_differences(activation, cost):
    net = Network((6, 5, 4, 3), activation, cost, seed=2, dtype=np.float64)
    for b in net.biases:  # non-zero biases, so their gradients are exercised too
        b[:] = np.random.default_rng(9).normal(0, 0.5, b.shape)
    X, Y = batch(net.sizes, 7)
    nabla_w, nabla_b = net.gradients(X, Y)
    for param, grad in zip(net.parameters, nabla_w + nabla_b, strict=True):
        numeric = np.array(
            [numeric_gradient(net, X, Y, param, i) for i in np.ndindex(param.shape)]
        ).reshape(param.shape)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation, cost", COMBOS)
def test_default_size_gradients_match_central_differences_on_a_sample(activation, cost):
    net = Network(activation=activation, cost=cost, seed=4, dtype=np.float64)
    X, Y = batch(net.sizes, 10, seed=5)
    grads = [*net.gradients(X, Y)[0], *net.gradients(X, Y)[1]]
    rng = np.random.default_rng(6)
    for param, grad in zip(net.parameters, grads, strict=True):
        for _ in range(6):
            i = tuple(int(rng.integers(n)) for n in param.shape)
            assert grad[i] == pytest.approx(
                numeric_gradient(net, X, Y, param, i), rel=1e-6, abs=1e-9
            )


def nielsen_backprop(net, x, y):
    """A second implementation: Nielsen's per-sample backprop on column vectors."""
    act, act_prime = (sigmoid, sigmoid_prime) if net.activation == "sigmoid" else (relu, relu_prime)
    activation = x.reshape(-1, 1)
    activations, zs = [activation], []
    for layer, (w, b) in enumerate(zip(net.weights, net.biases, strict=True)):
        z = w @ activation + b.reshape(-1, 1)
        zs.append(z)
        if layer < len(net.weights) - 1:
            activation = act(z)
        elif net.cost_name == "cross_entropy":
            activation = np.exp(z) / np.exp(z).sum()
        else:
            activation = sigmoid(z)
        activations.append(activation)
    y = y.reshape(-1, 1)
    if net.cost_name == "quadratic":
        delta = 2 * (activations[-1] - y) * sigmoid_prime(zs[-1])
    else:
        delta = activations[-1] - y
    nabla_w = [np.zeros(w.shape) for w in net.weights]
    nabla_b = [np.zeros(b.shape) for b in net.biases]
    nabla_w[-1], nabla_b[-1] = delta @ activations[-2].T, delta.ravel()
    for layer in range(2, len(net.sizes)):
        delta = (net.weights[-layer + 1].T @ delta) * act_prime(zs[-layer])
        nabla_w[-layer] = delta @ activations[-layer - 1].T
        nabla_b[-layer] = delta.ravel()
    return nabla_w, nabla_b


@pytest.mark.parametrize("activation, cost", COMBOS)
def test_vectorised_backprop_equals_the_per_sample_loop_averaged(activation, cost):
    net = Network((784, 16, 16, 10), activation, cost, seed=7, dtype=np.float64)
    X, Y = batch(net.sizes, 12, seed=8)
    per_sample = [nielsen_backprop(net, x, y) for x, y in zip(X, Y, strict=True)]
    nabla_w, nabla_b = net.gradients(X, Y)
    for layer in range(3):
        mean_w = np.mean([g[0][layer] for g in per_sample], axis=0)
        mean_b = np.mean([g[1][layer] for g in per_sample], axis=0)
        np.testing.assert_allclose(nabla_w[layer], mean_w, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(nabla_b[layer], mean_b, rtol=1e-12, atol=1e-15)


def test_backprop_returns_the_batch_cost_of_its_forward_pass():
    net = Network(cost="cross_entropy", dtype=np.float64)
    X, Y = batch(net.sizes, 9)
    assert net.backprop(X, Y)[2] == net.cost(X, Y)


@pytest.mark.parametrize("optimizer", ["gd", "momentum", "adam"])
@pytest.mark.parametrize("activation, cost", COMBOS)
def test_float32_stays_float32_through_gradients_and_an_optimizer_step(activation, cost, optimizer):
    net = Network(activation=activation, cost=cost)
    X, Y = batch(net.sizes, 10, dtype=np.float32)
    nabla_w, nabla_b, batch_cost = net.backprop(X, Y)
    assert all(g.dtype == np.float32 for g in nabla_w + nabla_b)
    assert isinstance(batch_cost, float)
    assert [a.dtype for a in net.feedforward(X)[0]] == [np.float32] * 3
    params = net.parameters
    before = [p.copy() for p in params]
    make_optimizer(optimizer, 0.5).step(params, nabla_w + nabla_b)
    assert all(p is q for p, q in zip(params, net.parameters, strict=True))  # moved in place
    assert all(p.dtype == np.float32 for p in net.parameters)
    assert any(not np.array_equal(p, q) for p, q in zip(before, net.parameters, strict=True))


def test_float32_gradients_agree_with_float64():
    narrow, wide = Network(seed=1), Network(seed=1, dtype=np.float64)
    wide.set_parameters(narrow.weights, narrow.biases)
    X, Y = batch(narrow.sizes, 10, dtype=np.float32)
    for g32, g64 in zip(narrow.gradients(X, Y)[0], wide.gradients(X, Y)[0], strict=True):
        np.testing.assert_allclose(g32, g64, rtol=1e-3, atol=1e-6)


def test_hidden_activations_for_one_input():
    net = Network((784, 16, 8, 10))
    x = np.linspace(0, 1, 784, dtype=np.float32)
    hidden = net.activations(x)
    assert [a.shape for a in hidden] == [(16,), (8,)]
    zs, activations = net.feedforward(x[None, :])
    np.testing.assert_array_equal(hidden[1], activations[2][0])
    assert Network((784, 10)).activations(x) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sizes": (784,)}, "at least an input and an output"),
        ({"sizes": (784, 0, 10)}, "positive integers"),
        ({"sizes": (784, 2.5, 10)}, "positive integers"),
        ({"sizes": 784}, "sequence of layer sizes"),
        ({"activation": "tanh"}, "unknown activation 'tanh'"),
        ({"cost": "hinge"}, "unknown cost 'hinge'"),
        ({"dtype": np.float16}, "float32 or float64"),
    ],
)
def test_bad_settings_are_clear_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Network(**kwargs)


def test_bad_input_shapes_are_clear_value_errors():
    net = Network()
    with pytest.raises(ValueError, match=r"shape \(N, 784\)"):
        net.forward(np.zeros((3, 783)))
    with pytest.raises(ValueError, match=r"one-hot labels must have shape \(3, 10\)"):
        net.cost(np.zeros((3, 784)), np.zeros((3, 9)))
    with pytest.raises(ValueError, match="does not match"):
        net.set_parameters([np.zeros((16, 784)), np.zeros((16, 16)), np.zeros((9, 16))], net.biases)


def test_the_maths_imports_no_web_code_and_numba_only_for_the_numba_engine():
    """STYLE.md: the maths imports NumPy and the standard library; Numba only inside the
    optional compiled kernel (app/mnist/fast/), and only when its engine is asked for: a
    training on the NumPy engine loads no Numba even where it is installed."""
    web = "('fastapi', 'starlette', 'uvicorn', 'jinja2', 'pydantic', 'threadpoolctl', 'app.web')"
    training = (
        "import sys; import numpy as np; import app.mnist.training, app.mnist.engine; "
        "from types import SimpleNamespace; "  # a Dataset without the data layer's imports
        "from app.mnist.training import TrainConfig, Trainer; "
        "x = np.zeros((20, 784), np.float32); y = np.arange(20) % 10; "
        "data = SimpleNamespace(x_train=x, y_train=y, x_test=x, y_test=y); "
        "t = Trainer(TrainConfig(epochs=1), data, engine='numpy'); "
        "t.run(5); t.evaluate(); "
        f"print([m for m in {web} + ('numba', 'app.mnist.fast') if m in sys.modules])"
    )
    readable = (
        "import sys; import app.mnist.network, app.mnist.digits, app.mnist.classify, "
        "app.mnist.model_store, app.surfaces, app.optimizers, app.descent; "
        f"print([m for m in {web} + ('numba',) if m in sys.modules])"
    )
    for code in (training, readable):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]"
