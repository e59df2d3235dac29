"""The step activation (flat cost: nothing to descend) and full-batch training."""

import numpy as np
import pytest

from app import cli
from app.mnist.engine import make_kernel, numba_available
from app.mnist.landscape import plane_costs
from app.mnist.network import Network
from app.mnist.training import TrainConfig, Trainer
from tests.test_train_command import data_dir  # noqa: F401 (a fixture)
from tests.test_train_ws import SMALL, receive, status
from tests.test_training import synthetic


def test_step_network_outputs_zeros_and_ones_and_has_a_zero_gradient():
    net = Network((784, 16, 16, 10), "step", seed=1, dtype=np.float64)
    data = synthetic(10, 40)
    y = np.eye(10)[data.y_test]
    out = net.forward(data.x_test)
    assert set(np.unique(out)) <= {0.0, 1.0}
    # the forward pass by hand: every layer steps
    a = data.x_test.astype(np.float64)
    for w, b in zip(net.weights, net.biases, strict=True):
        a = (a @ w.T + b > 0).astype(float)
    np.testing.assert_array_equal(out, a)
    assert net.cost(data.x_test, y) == pytest.approx(np.sum((a - y) ** 2) / len(y))
    nabla_w, nabla_b = net.gradients(data.x_test, y)
    assert all(not g.any() for g in [*nabla_w, *nabla_b])
    # and indeed flat: a small move in any direction changes no output
    net.flat[...] += 1e-9 * np.random.default_rng(0).standard_normal(net.flat.size)
    np.testing.assert_array_equal(net.forward(data.x_test), out)


def test_step_needs_the_quadratic_cost():
    with pytest.raises(ValueError, match="quadratic"):
        Network(activation="step", cost="cross_entropy")
    with pytest.raises(ValueError, match="quadratic"):
        TrainConfig(activation="step", cost="cross_entropy").validate()


def test_a_step_network_does_not_learn():
    data = synthetic(200, 50)
    trainer = Trainer(TrainConfig(activation="step", epochs=2, batch_size=10), data, engine="auto")
    before = trainer.network.flat.copy()
    first = trainer.evaluate()
    trainer.run(trainer.total_steps)
    assert trainer.engine == "numpy" and trainer.done and not trainer.diverged
    np.testing.assert_array_equal(trainer.network.flat, before)
    assert trainer.evaluate()["test_cost"] == first["test_cost"]


def test_step_landscape_cells_match_the_moved_network():
    data = synthetic(10, 60)
    onehot = np.eye(10)[data.y_test]
    net = Network((784, 8, 10), "step", seed=2)
    center = net.flat.astype(np.float64)
    d1, d2 = np.random.default_rng(3).standard_normal((2, center.size)) * 0.3
    a = b = np.linspace(-1, 1, 4)
    grid = plane_costs(net, center, d1, d2, a, b, data.x_test, onehot)
    moved = Network(net.sizes, "step", dtype=np.float64)
    for j in range(4):
        for i in range(4):
            moved.flat[...] = center + a[i] * d1 + b[j] * d2
            assert grid[j, i] == pytest.approx(moved.cost(data.x_test, onehot), abs=1e-6)


def test_full_batch_and_step_over_the_socket(client, mnist):
    with client.websocket_connect("/ws/train") as ws:
        ws.send_json({**SMALL, "batch_size": "full", "epochs": 3, "lr": 1.0})
        messages = receive(ws, status("finished", "stopped"))
        running = next(m for m in messages if m.get("state") == "running")
        assert running["steps_per_epoch"] == 1 and running["total_steps"] == 3
        steps = [s for m in messages if m["type"] == "progress" for s in m["steps"]]
        assert [s["samples_seen"] for s in steps] == [len(mnist.y_train) * k for k in (1, 2, 3)]
        ws.send_json({**SMALL, "activation": "step", "epochs": 1})
        messages = receive(ws, status("finished", "stopped"))
        evals = [m for m in messages if m["type"] == "eval"]
        assert messages[-1]["state"] == "finished"
        assert evals[0]["test_cost"] == evals[-1]["test_cost"]  # flat: nothing moved
        ws.send_json({**SMALL, "activation": "step", "cost": "cross_entropy"})
        assert "quadratic" in receive(ws, lambda m: m["type"] == "error")[-1]["message"]
        ws.send_json({**SMALL, "batch_size": "half"})
        assert receive(ws, lambda m: m["type"] == "error")[-1]["message"]


def problem(cost, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    network = Network((20, 7, 5, 4), "step", cost, seed=seed, dtype=dtype)
    for b in network.biases:
        b[...] = rng.normal(size=b.shape)
    x = rng.random((50, 20)).astype(dtype)
    y = np.eye(4, dtype=dtype)[rng.integers(0, 4, 50)]
    return network, x, y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_numpy_kernel_computes_a_step_network_as_backprop_does(dtype):
    network, x, y = problem("quadratic", dtype)
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
