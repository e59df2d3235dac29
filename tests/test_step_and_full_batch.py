"""The two teaching counter-examples: a network of steps (flat cost) and full-batch descent."""

import numpy as np
import pytest

from app import cli
from app.mnist.engine import make_kernel, numba_available, resolve_engine
from app.mnist.network import Network, step, step_prime
from app.mnist.training import TrainConfig, Trainer
from tests.test_train_command import data_dir  # noqa: F401 (a fixture)
from tests.test_training import synthetic


def problem(cost, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    network = Network((20, 7, 5, 4), "step", cost, seed=seed, dtype=dtype)
    for b in network.biases:
        b[...] = rng.normal(size=b.shape)
    x = rng.random((50, 20)).astype(dtype)
    y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 50)]
    return network, x, y


def test_the_step_is_one_above_zero_and_its_derivative_zero():
    z = np.array([-2.0, -1e-9, 0.0, 1e-9, 5.0])
    np.testing.assert_array_equal(step(z), [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(step_prime(z), np.zeros(5))


def test_every_neuron_of_a_step_network_outputs_zero_or_one():
    network, x, y = problem("quadratic")
    out = network.forward(x)
    assert set(np.unique(out)) <= {0.0, 1.0}
    assert all(set(np.unique(a)) <= {0.0, 1.0} for a in network.activations(x[0]))


def test_under_the_quadratic_cost_every_gradient_of_a_step_network_is_zero():
    network, x, y = problem("quadratic")
    nabla_w, nabla_b, cost = network.backprop(x, y)
    assert cost > 0  # far from the labels: the cost is not flat because it is zero
    assert all(not g.any() for g in [*nabla_w, *nabla_b])


def test_with_cross_entropy_only_the_softmax_layer_learns_and_its_gradient_is_right():
    network, x, y = problem("cross_entropy")
    nabla_w, nabla_b, _ = network.backprop(x, y)
    assert all(not g.any() for g in [*nabla_w[:-1], *nabla_b[:-1]])
    assert nabla_w[-1].any()
    w = network.weights[-1]
    for i, j in [(0, 0), (1, 3), (3, 4)]:  # the hidden steps do not move: plain differences
        saved, h = w[i, j], 1e-6
        w[i, j] = saved + h
        up = network.cost(x, y)
        w[i, j] = saved - h
        down = network.cost(x, y)
        w[i, j] = saved
        assert nabla_w[-1][i, j] == pytest.approx((up - down) / (2 * h), rel=1e-6)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_numpy_kernel_computes_a_step_network_as_backprop_does(cost, dtype):
    network, x, y = problem(cost, dtype)
    kernel = make_kernel(network, "numpy")
    grad = np.full_like(network.flat, np.nan)
    rows = np.arange(3, 40)
    got_cost, finite = kernel.backprop(x, y, rows, grad)
    want_w, want_b, want_cost = network.backprop(x[rows], y[rows])
    want = np.concatenate([a.ravel() for a in [*want_w, *want_b]])
    assert finite and got_cost == pytest.approx(want_cost, rel=1e-6)
    np.testing.assert_allclose(grad, want, rtol=0, atol=1e-6 * max(1.0, np.abs(want).max()))
    want_cost, output = network.cost_and_output(x, y)
    cost_all, accuracy = kernel.evaluate(x, y)
    assert cost_all == pytest.approx(want_cost, rel=1e-6)
    assert accuracy == np.mean(output.argmax(axis=1) == y.argmax(axis=1))


def test_a_step_network_trains_on_numpy_whatever_the_engine_and_never_moves():
    assert resolve_engine("auto", 10, "step") == "numpy"
    assert resolve_engine("numba", 10, "step") == "numpy"
    data = synthetic(300, 50)
    trainer = Trainer(TrainConfig(activation="step", epochs=2, lr=3.0), data, engine="auto")
    assert trainer.engine == "numpy"
    before = trainer.network.flat.copy()
    first = trainer.evaluate()
    chunk = trainer.run(trainer.total_steps)
    np.testing.assert_array_equal(trainer.network.flat, before)  # every gradient was 0
    assert chunk.evals[-1]["test_cost"] == first["test_cost"]  # the cost is flat


@pytest.mark.skipif(not numba_available(), reason="Numba is not installed (the [fast] extra)")
def test_the_numba_kernel_refuses_a_step_network_rather_than_compute_a_sigmoid():
    from app.mnist.fast.kernel import NumbaKernel

    with pytest.raises(ValueError, match="no 'step' activation"):
        NumbaKernel(Network((4, 3, 2), "step"))


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_full_batch_takes_one_step_per_epoch_down_the_whole_sets_gradient(engine):
    if engine == "numba" and not numba_available():
        pytest.skip("Numba is not installed (the [fast] extra)")
    data = synthetic(300, 50)
    trainer = Trainer(TrainConfig(batch_size="full", epochs=3, lr=2.0), data, engine=engine)
    assert (trainer.batch_size, trainer.steps_per_epoch, trainer.total_steps) == (300, 1, 3)
    reference = Network(trainer.network.sizes, dtype=np.float64)
    reference.flat[...] = trainer.network.flat
    nabla_w, nabla_b = reference.gradients(data.x_train, np.eye(10)[data.y_train])
    expected = reference.flat - 2.0 * np.concatenate([g.ravel() for g in [*nabla_w, *nabla_b]])
    chunk = trainer.run(1)
    assert chunk.progress[0]["samples_seen"] == 300 and chunk.progress[0]["epoch"] == 1.0
    np.testing.assert_allclose(trainer.network.flat, expected, rtol=0, atol=1e-5)


def test_a_batch_size_is_a_whole_number_or_full():
    TrainConfig(batch_size="full").validate()
    with pytest.raises(ValueError, match="batch size must be a whole number"):
        TrainConfig(batch_size="half").validate()


def test_gdviz_train_takes_full_batches_and_steps(data_dir, capsys):  # noqa: F811
    assert cli.main(["train", "--epochs", "3", "--batch-size", "full", "--lr", "1"]) == 0
    assert cli.main(["train", "--epochs", "1", "--activation", "step"]) == 0
    err = capsys.readouterr().err
    assert "engine: numpy" in err


def test_the_socket_takes_full_batches_and_steps(client, mnist):
    from tests.test_train_ws import SMALL, receive, status

    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "batch_size": "full", "epochs": 3})
        full = receive(ws, status("finished"))
        ws.send_json({**SMALL, "activation": "step", "epochs": 1})
        steps = receive(ws, status("finished"))
        ws.send_json({**SMALL, "batch_size": "half"})
        refused = receive(ws, lambda m: m["type"] == "error")
    running = next(m for m in full if m.get("state") == "running")
    assert running["steps_per_epoch"] == 1 and running["total_steps"] == 3
    assert [s["step"] for m in full if m["type"] == "progress" for s in m["steps"]] == [1, 2, 3]
    assert next(m for m in steps if m.get("state") == "running")["engine"] == "numpy"
    costs = {m["test_cost"] for m in steps if m["type"] == "eval"}
    assert len(costs) == 1  # flat: the step network never moved
    assert "batch_size" in refused[-1]["message"]
