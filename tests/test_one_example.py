"""One example's backprop: nudges and gradients against finite differences, and the route."""

import base64

import numpy as np
import pytest

from app.mnist.model_store import save_network
from app.mnist.network import Network, log_softmax, sigmoid
from app.mnist.one_example import example_gradients

H = 1e-6


def example_cost(net, x, label):
    """This example's cost, straight from the definition."""
    out = net.forward(x[None, :])[0]
    if net.cost_name == "quadratic":
        return float(np.sum((out - np.eye(10)[label]) ** 2))
    return -float(_log_p(net, x)[label])


def _log_p(net, x):
    zs, _ = net.feedforward(x[None, :])
    return log_softmax(zs[-1])[0]


def cost_from_layer(net, layer, a, label):
    """The cost as a function of layer ``layer``'s activations a (layer 1 = first hidden)."""
    last = len(net.weights) - 1
    for k in range(layer, len(net.weights)):
        z = net.weights[k] @ a + net.biases[k]
        if k < last:
            a = net.act(z)
        elif net.cost_name == "quadratic":
            return float(np.sum((sigmoid(z) - np.eye(10)[label]) ** 2))
        else:
            return -float(log_softmax(z[None, :])[0][label])
    # layer is the output layer itself: a are the outputs
    if net.cost_name == "quadratic":
        return float(np.sum((a - np.eye(10)[label]) ** 2))
    return -float(np.log(a[label]))


@pytest.fixture(params=[("sigmoid", "quadratic"), ("relu", "cross_entropy"),
                        ("sigmoid", "cross_entropy")])  # fmt: skip
def case(request):
    activation, cost = request.param
    net = Network((784, 16, 12, 10), activation, cost, seed=3, dtype=np.float64)
    x = np.random.default_rng(0).random(784)
    return net, x, 4


def test_weight_and_bias_gradients_match_finite_differences(case):
    net, x, label = case
    found = example_gradients(net, x, label)
    assert found["cost"] == pytest.approx(example_cost(net, x, label), rel=1e-10)
    rng = np.random.default_rng(1)
    for params, grads in ((net.weights, found["weights"]), (net.biases, found["biases"])):
        for p, g in zip(params, grads, strict=True):
            for index in [tuple(rng.integers(0, s) for s in p.shape) for _ in range(6)]:
                keep = p[index]
                p[index] = keep + H
                up = example_cost(net, x, label)
                p[index] = keep - H
                down = example_cost(net, x, label)
                p[index] = keep
                assert g[index] == pytest.approx((up - down) / (2 * H), rel=1e-4, abs=1e-8)


def test_nudges_are_minus_the_cost_gradient_of_each_layer(case):
    net, x, label = case
    found = example_gradients(net, x, label)
    _, activations = net.feedforward(x[None, :])
    assert [len(n) for n in found["nudges"]] == [16, 12, 10]
    for layer, nudges in enumerate(found["nudges"], start=1):
        a = activations[layer][0].copy()
        for k in range(len(a)):
            up, down = a.copy(), a.copy()
            up[k] += H
            down[k] -= H
            slope = (cost_from_layer(net, layer, up, label)
                     - cost_from_layer(net, layer, down, label)) / (2 * H)  # fmt: skip
            assert -nudges[k] == pytest.approx(slope, rel=1e-4, abs=1e-8)


def test_quadratic_output_nudges_push_the_right_digit_up_and_the_others_down():
    net = Network(seed=2, dtype=np.float64)
    x = np.random.default_rng(4).random(784)
    found = example_gradients(net, x, 7)
    out = net.forward(x[None, :])[0]
    np.testing.assert_allclose(found["nudges"][-1], 2 * (np.eye(10)[7] - out))
    assert found["nudges"][-1][7] > 0 and all(
        v < 0 for k, v in enumerate(found["nudges"][-1]) if k != 7
    )


@pytest.mark.parametrize("label", [-1, 10, True, 2.5])
def test_labels_outside_0_to_9_are_refused(label):
    with pytest.raises(ValueError, match="label"):
        example_gradients(Network(), np.zeros(784), label)


def canvas_of(image28, scale=10):
    big = np.kron(image28.reshape(28, 28), np.ones((scale, scale)))
    return {"width": 28 * scale, "height": 28 * scale}, big


def test_backprop_route(client, mnist):
    size, big = canvas_of(mnist.x_test[0])
    gray8 = base64.b64encode(np.rint(big * 255).astype(np.uint8).tobytes()).decode()
    request = {**size, "gray8": gray8, "label": int(mnist.y_test[0])}
    response = client.post("/api/mnist/backprop", json=request)
    assert response.status_code == 409 and "no trained network" in response.json()["detail"]
    net = Network(seed=5)
    save_network(net)
    result = client.post("/api/mnist/backprop", json=request).json()
    assert result["label"] == mnist.y_test[0] and len(result["nudges"]) == 3
    assert [len(n) for n in result["nudges"]] == [16, 16, 10]
    assert np.array(result["gradients"]["weights"][0]).shape == (16, 784)
    # the same as the maths on the input the route saw
    direct = example_gradients(net, np.array(result["input"]), request["label"])
    np.testing.assert_allclose(result["gradients"]["weights"][0], direct["weights"][0], atol=1e-12)
    assert result["cost"] == pytest.approx(direct["cost"])
    pixels = {**size, "pixels": big.ravel().round(3).tolist(), "label": 3}
    assert client.post("/api/mnist/backprop", json=pixels).status_code == 200
    blank = base64.b64encode(bytes(280 * 280)).decode()
    for bad in ({**request, "label": 10}, {**request, "label": "3"}, {**size, "label": 1},
                {**request, "gray8": "abc"}, {**request, "pixels": [0.0]},
                {**size, "gray8": blank, "label": 1}):  # fmt: skip
        response = client.post("/api/mnist/backprop", json=bad)
        assert response.status_code == 422 and response.json()["detail"], bad
