"""Mini-batch training: bookkeeping, shuffling, evaluations, learning, and shuffled labels.

The tests of what a step computes run on both engines (Numba's skipped only where it is
missing; in CI a skip fails the run).
"""

import math

import numpy as np
import pytest

from app.mnist.data import Dataset
from app.mnist.engine import numba_available, resolve_engine
from app.mnist.network import Network
from app.mnist.training import TrainConfig, Trainer, first_layer_images
from app.optimizers import make_optimizer

NUMBA = pytest.mark.skipif(not numba_available(), reason='Numba missing: pip install "gdviz[fast]"')


@pytest.fixture(params=[pytest.param("numpy"), pytest.param("numba", marks=NUMBA)])
def engine(request):
    return request.param


def synthetic(n_train=500, n_test=200, seed=0, noise=0.25):
    """Ten random 'prototype digits' plus noise: learnable, small and fast."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 784))

    def draw(n):
        y = rng.integers(0, 10, n)
        x = np.clip(prototypes[y] + rng.normal(0, noise, (n, 784)), 0, 1).astype(np.float32)
        return x, y.astype(np.int64)

    return Dataset(*draw(n_train), *draw(n_test), source="synthetic")


def indexed(n_train=25, n_test=7):
    """Pixels whose first value names the sample, so a batch tells which samples it holds."""
    rng = np.random.default_rng(1)
    x = rng.random((n_train, 784)).astype(np.float32)
    x[:, 0] = np.arange(n_train) / 1000
    return Dataset(x, np.arange(n_train) % 10, x[:n_test], np.arange(n_test) % 10, "indexed")


def test_steps_epochs_and_samples_are_counted_with_a_short_last_batch():
    trainer = Trainer(TrainConfig(batch_size=10, epochs=2), indexed(25))
    assert (trainer.steps_per_epoch, trainer.total_steps) == (3, 6)
    chunk = trainer.run(4)
    assert [p["step"] for p in chunk.progress] == [1, 2, 3, 4]
    assert [p["samples_seen"] for p in chunk.progress] == [10, 20, 25, 35]
    assert [p["epoch"] for p in chunk.progress] == [0.4, 0.8, 1.0, 1.4]
    assert [e["step"] for e in chunk.evals] == [3]  # the end of epoch 1
    assert (trainer.step, trainer.epoch, trainer.done) == (4, 1, False)
    chunk = trainer.run(10)
    assert [p["step"] for p in chunk.progress] == [5, 6]
    assert [(e["step"], e["epoch"], e["samples_seen"]) for e in chunk.evals] == [(6, 2.0, 50)]
    assert trainer.done and trainer.epoch == 2
    assert trainer.run(5).progress == []


def test_evaluations_come_every_eval_every_steps_and_at_every_epoch_end():
    trainer = Trainer(TrainConfig(batch_size=10, epochs=2, eval_every=2), indexed(25))
    chunk = trainer.run(100)
    assert [e["step"] for e in chunk.evals] == [2, 3, 4, 6]


def test_every_sample_is_used_once_per_epoch_in_a_new_order(monkeypatch):
    trainer = Trainer(TrainConfig(batch_size=4, epochs=3), indexed(25))
    seen = []
    backprop = trainer._kernel.backprop

    def recording(x, y, rows, grad):
        seen.extend(np.rint(x[rows, 0] * 1000).astype(int).tolist())
        return backprop(x, y, rows, grad)

    monkeypatch.setattr(trainer._kernel, "backprop", recording)
    trainer.run(100, defer_evaluations=True)  # only the steps' backprops, none of evaluations'
    epochs = [seen[0:25], seen[25:50], seen[50:75]]
    assert len(seen) == 75
    assert all(sorted(order) == list(range(25)) for order in epochs)
    assert epochs[0] != epochs[1] != epochs[2]


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    data = synthetic(100, 20)
    runs = [Trainer(TrainConfig(seed=s, epochs=2), data).run(1000).progress for s in (3, 3, 4)]
    assert runs[0] == runs[1]
    assert [p["cost"] for p in runs[0]] != [p["cost"] for p in runs[2]]


def test_the_engine_is_the_one_asked_for_and_auto_prefers_numba():
    data = indexed()
    assert Trainer(TrainConfig(), data, engine="numpy").engine == "numpy"
    assert Trainer(TrainConfig(), data).engine == resolve_engine("auto")
    assert Trainer(TrainConfig(), data).engine == ("numba" if numba_available() else "numpy")
    with pytest.raises(ValueError, match="unknown engine"):
        Trainer(TrainConfig(), data, engine="cuda")


def test_a_step_is_one_gd_update_with_the_current_learning_rate(engine):
    data = synthetic(40, 10)
    trainer = Trainer(TrainConfig(batch_size=40, lr=0.7, epochs=3), data, engine=engine)
    net = trainer.network
    X, Y = data.x_train, np.eye(10, dtype=np.float32)[data.y_train]
    for lr in (0.7, 0.2):
        trainer.set_lr(lr)
        before = [p.copy() for p in net.parameters]
        nabla_w, nabla_b = net.gradients(X, Y)  # a full batch: the order does not matter
        cost = net.cost(X, Y)
        record = trainer.run(1).progress[0]
        assert record["cost"] == pytest.approx(cost, rel=1e-5)
        for p, p0, g in zip(net.parameters, before, nabla_w + nabla_b, strict=True):
            np.testing.assert_allclose(p, p0 - lr * g, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("lr", [0.0, -1.0, math.inf, math.nan, 1e4, "fast", True])
def test_set_lr_refuses_unusable_rates(lr):
    trainer = Trainer(TrainConfig(epochs=1), indexed(25))
    with pytest.raises(ValueError, match="learning rate"):
        trainer.set_lr(lr)
    assert trainer.optimizer.lr == 3.0


def test_evaluate_reports_costs_and_accuracy_of_the_current_network(engine):
    data = synthetic(60, 30)
    trainer = Trainer(TrainConfig(epochs=1), data, engine=engine)
    result = trainer.evaluate()
    assert set(result) == {
        "step",
        "epoch",
        "samples_seen",
        "train_cost",
        "test_cost",
        "test_accuracy",
        "confusion",
        "gradient_norms",
    }
    net = trainer.network
    onehot = np.eye(10, dtype=np.float32)
    assert (result["step"], result["epoch"], result["samples_seen"]) == (0, 0.0, 0)
    # the training cost is taken over as many training samples as the test set has
    train_cost = net.cost(data.x_train[:30], onehot[data.y_train[:30]])
    assert result["train_cost"] == pytest.approx(train_cost, rel=1e-6)  # to rounding
    test_cost = net.cost(data.x_test, onehot[data.y_test])
    assert result["test_cost"] == pytest.approx(test_cost, rel=1e-6)
    predicted = np.argmax(net.forward(data.x_test), axis=1)
    assert result["test_accuracy"] == np.mean(predicted == data.y_test)


@pytest.mark.parametrize("cost", ["quadratic", "cross_entropy"])
def test_training_lowers_the_cost_and_shuffled_labels_lower_it_far_more_slowly(cost, engine):
    data = synthetic()
    results = {}
    for shuffle in (False, True):
        config = TrainConfig(epochs=5, lr=1.0, cost=cost, shuffle_labels=shuffle)
        trainer = Trainer(config, data, engine=engine)
        start = trainer.evaluate()
        results[shuffle] = (start, trainer.run(10_000).evals[-1])
    (start, end), (_, shuffled_end) = results[False], results[True]
    assert end["train_cost"] < 0.15 * start["train_cost"]
    assert end["test_accuracy"] > 0.9
    # Shuffled: at best the cost of guessing the label frequencies (0.9 quadratic, ln 10
    # cross-entropy); nothing to learn, so the test accuracy stays near chance.
    assert shuffled_end["train_cost"] > 3 * end["train_cost"]
    assert shuffled_end["train_cost"] > (0.85 if cost == "quadratic" else 0.95 * math.log(10))
    assert shuffled_end["test_accuracy"] < 0.3


def test_shuffle_labels_permutes_the_training_labels_once_and_keeps_the_test_labels():
    data = synthetic(200, 50)
    trainer = Trainer(TrainConfig(shuffle_labels=True, seed=5), data)
    assert sorted(trainer.y_train) == sorted(data.y_train)
    assert np.mean(trainer.y_train == data.y_train) < 0.3
    np.testing.assert_array_equal(trainer.y_test, data.y_test)
    again = Trainer(TrainConfig(shuffle_labels=True, seed=5), data)
    np.testing.assert_array_equal(again.y_train, trainer.y_train)


def test_float32_all_the_way_through_training(engine):
    config = TrainConfig(epochs=1, optimizer="adam", lr=0.01)
    trainer = Trainer(config, synthetic(50, 10), engine=engine)
    trainer.run(100)
    assert all(p.dtype == np.float32 for p in trainer.network.parameters)
    assert all(isinstance(p["cost"], float) for p in trainer.run(1).progress)


def test_a_non_finite_parameter_stops_training_without_a_step(engine):
    trainer = Trainer(TrainConfig(epochs=2, cost="cross_entropy"), synthetic(50, 10), engine=engine)
    trainer.run(3)
    trainer.network.weights[-1][0, 0] = np.nan
    chunk = trainer.run(10)
    assert chunk.progress == [] and trainer.diverged and trainer.done
    assert trainer.step == 3


def test_a_training_that_overflows_from_finite_parameters_stops_as_diverged(engine, recwarn):
    """A real divergence: wide relu layers and lr 1000. The second step's update leaves every
    parameter finite but so large that the third step's sums overflow: training stops there
    as diverged, having reported only finite costs, without a warning."""
    config = TrainConfig(
        hidden=(512, 512, 512, 512), activation="relu", cost="cross_entropy", lr=1e3, epochs=5
    )
    trainer = Trainer(config, synthetic(100, 20), engine=engine)
    chunk = trainer.run(10_000)
    assert trainer.diverged and trainer.done and trainer.step == len(chunk.progress) == 2
    assert np.isfinite(trainer.network.flat).all()  # finite parameters, non-finite sums
    assert all(math.isfinite(p["cost"]) for p in chunk.progress)
    assert chunk.progress[-1]["cost"] > 1e10  # it was on its way
    assert trainer.run(5).progress == []
    result = trainer.evaluate()
    confusion = result.pop("confusion")
    assert result.pop("gradient_norms") is None  # not finite numbers
    assert all(v is None or math.isfinite(v) for v in result.values())
    assert sum(map(sum, confusion)) == 20  # whole counts, whatever the outputs
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("activation, cost", [("relu", "cross_entropy"), ("sigmoid", "quadratic")])
@pytest.mark.parametrize("optimizer", ["gd", "momentum"])
def test_the_largest_learning_rate_never_reports_nan_or_infinity(
    activation, cost, optimizer, engine
):
    config = TrainConfig(epochs=2, activation=activation, cost=cost, optimizer=optimizer, lr=1e3)
    trainer = Trainer(config, synthetic(100, 20), engine=engine)
    chunk = trainer.run(10_000)
    numbers = [p["cost"] for p in chunk.progress]
    numbers += [
        v for e in chunk.evals for k, v in e.items() if k not in ("confusion", "gradient_norms")
    ]
    numbers += [v for e in chunk.evals for v in e["gradient_norms"] or []]
    assert len(chunk.progress) == 20 and all(math.isfinite(v) for v in numbers)
    assert all(np.isfinite(p).all() for p in trainer.network.parameters)


def test_batch_larger_than_the_training_set_is_one_full_batch():
    trainer = Trainer(TrainConfig(batch_size=1000, epochs=2), indexed(25))
    assert trainer.steps_per_epoch == 1
    assert [p["samples_seen"] for p in trainer.run(5).progress] == [25, 50]


def test_first_layer_images_are_a_copy_of_the_first_weights_as_28x28():
    net = Trainer(TrainConfig(hidden=(16, 16)), indexed()).network
    images = first_layer_images(net)
    assert images.shape == (16, 28, 28) and images.dtype == np.float32
    np.testing.assert_array_equal(images[3].ravel(), net.weights[0][3])
    images[0, 0, 0] = 99.0
    assert net.weights[0][0, 0] != 99.0


def test_a_network_with_no_hidden_layer_trains_too():
    trainer = Trainer(TrainConfig(hidden=(), epochs=1), synthetic(50, 10))
    assert trainer.network.sizes == (784, 10)
    assert len(trainer.run(100).progress) == 5


@pytest.mark.parametrize(
    "change, message",
    [
        ({"hidden": (16, 0)}, "hidden layer size must lie between 1 and 512"),
        ({"hidden": (16, 513)}, "hidden layer size must lie between 1 and 512"),
        ({"hidden": (8, 8, 8, 8, 8)}, "at most 4 hidden layers"),
        ({"hidden": (16.5,)}, "hidden layer size must be a whole number"),
        ({"activation": "tanh"}, "unknown activation 'tanh'"),
        ({"cost": "hinge"}, "unknown cost 'hinge'"),
        ({"optimizer": "lbfgs"}, "unknown optimizer 'lbfgs'"),
        ({"lr": 0.0}, "learning rate must be a number in"),
        ({"lr": math.nan}, "learning rate must be a number in"),
        ({"batch_size": 0}, "batch size must lie between 1 and 60000"),
        ({"batch_size": 60_001}, "batch size must lie between 1 and 60000"),
        ({"epochs": 0}, "epochs must lie between 1 and 1000"),
        ({"epochs": 2.0}, "epochs must be a whole number"),
        ({"seed": -1}, "seed must lie between"),
        ({"shuffle_labels": "yes"}, "shuffle_labels must be true or false"),
        ({"hyper": {"momentum": 0.9}}, "gd has no hyper-parameter momentum"),
        ({"optimizer": "momentum", "hyper": {"momentum": 1.5}}, r"momentum must lie in \[0, 1\)"),
    ],
)
def test_bad_settings_are_clear_value_errors(change, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**change).validate()
    with pytest.raises(ValueError, match=message):
        Trainer(TrainConfig(**change), indexed())


def test_one_epoch_on_the_real_digits(mnist, engine):
    data = mnist
    subset = Dataset(data.x_train[:4000], data.y_train[:4000], data.x_test, data.y_test, "real")
    trainer = Trainer(TrainConfig(epochs=1), subset, engine=engine)
    evals = trainer.run(10_000).evals
    assert evals[-1]["test_accuracy"] > 0.7


@pytest.mark.filterwarnings("ignore:invalid value encountered", "ignore:overflow encountered")
def test_an_evaluation_that_overflows_reports_none_and_stops_training(engine):
    trainer = Trainer(TrainConfig(cost="cross_entropy"), synthetic(50, 10), engine=engine)
    trainer.network.weights[-1][:] = 1e38  # finite, but every sum of them overflows
    result = trainer.evaluate()
    assert result["train_cost"] is None and result["test_cost"] is None
    assert trainer.diverged and trainer.done


@pytest.mark.parametrize("optimizer", ["gd", "adam"])
def test_the_fast_trainer_computes_the_straightforward_loop(optimizer, engine):
    """Kernel, flat buffers and all: the weights of Nielsen's loop written plainly, to float32
    rounding (the kernels sum in another order than Network.backprop; tests/test_kernel.py)."""
    data = synthetic(60, 12)
    config = TrainConfig(hidden=(5,), batch_size=7, epochs=2, lr=0.5, optimizer=optimizer)
    trainer = Trainer(config, data, engine=engine)
    costs = [p["cost"] for p in trainer.run(1000).progress]

    network = Network((data.x_train.shape[1], 5, 10), seed=config.seed)
    opt = make_optimizer(optimizer, 0.5)
    rng, onehot = np.random.default_rng([config.seed, 1]), np.eye(10)[data.y_train]
    plain_costs = []
    for _ in range(2):
        order = rng.permutation(60)
        for start in range(0, 60, 7):
            rows = order[start : start + 7]
            nabla_w, nabla_b, cost = network.backprop(data.x_train[rows], onehot[rows])
            opt.step(network.parameters, [*nabla_w, *nabla_b])
            plain_costs.append(cost)
    assert costs == pytest.approx(plain_costs, rel=1e-5)
    # Adam divides every gradient entry by its own running size, so an entry near zero
    # (a pixel that is almost always 0) turns rounding into up to ~2e-5 of difference.
    np.testing.assert_allclose(trainer.network.flat, network.flat, rtol=1e-4, atol=5e-5)
    assert np.abs(network.flat - Network(network.sizes, seed=config.seed).flat).max() > 0.05


def test_deferred_evaluations_equal_the_inline_ones(engine):
    data = synthetic(60, 12)
    config = TrainConfig(hidden=(5,), batch_size=7, epochs=3, eval_every=4)
    inline = Trainer(config, data, engine=engine).run(1000).evals
    deferred = Trainer(config, data, engine=engine)
    chunk = deferred.run(1000, defer_evaluations=True)
    assert chunk.evals == [] and len(chunk.snapshots) == len(inline)
    assert [deferred.evaluate_snapshot(s) for s in chunk.snapshots] == inline


def test_a_snapshot_is_a_copy_of_the_parameters_at_its_step(engine):
    trainer = Trainer(TrainConfig(batch_size=7, epochs=3), synthetic(60, 12), engine=engine)
    trainer.run(5)
    snapshot = trainer.snapshot()
    assert (snapshot.step, snapshot.samples_seen) == (5, 35)
    np.testing.assert_array_equal(snapshot.flat, trainer.network.flat)
    expected = trainer.evaluate()
    trainer.run(3)  # training goes on: the snapshot keeps step 5's parameters
    assert not np.array_equal(snapshot.flat, trainer.network.flat)
    assert trainer.evaluate_snapshot(snapshot) == expected


def test_threads_sets_blas_threads_for_the_block_and_restores_them(engine):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    trainer = Trainer(TrainConfig(batch_size=1000), synthetic(60, 12), engine=engine)
    before = blas_threads()
    with trainer.threads():
        inside = blas_threads()
        trainer.run(2)
    assert inside and all(n == trainer.blas_threads for n in inside)
    assert blas_threads() == before


@pytest.mark.parametrize(
    ("engine", "batch", "cores"),
    [("numpy", 10, 1), ("numpy", 64, 2), ("numpy", 1000, 2), ("numba", 10, 1), ("numba", 63, 1),
     ("numba", 64, 2), ("numba", 1000, 2)],
)  # fmt: skip
def test_live_evaluations_go_aside_only_while_a_step_leaves_a_core_free(engine, batch, cores):
    """A step on two cores (BLAS's pair: NumPy's steps from batch 64; the compiled loops'
    two parts from 64) leaves none for an evaluation thread: LiveTraining then evaluates
    between steps, in the training thread. The compiled loops use no BLAS: one thread."""
    from app.web.live_training import LiveTraining

    if engine == "numba":
        if not numba_available():
            pytest.skip("Numba is not installed (the [fast] extra)")
        from app.mnist.fast.kernel import step_threads

        if cores > step_threads():
            pytest.skip("one core, or no thread-safe threading layer: a step cannot be split")
    trainer = Trainer(TrainConfig(batch_size=batch), synthetic(1000, 12), engine=engine)
    assert trainer.step_cores == cores
    assert trainer.blas_threads == (1 if engine == "numba" else cores)
    live = LiveTraining(trainer)
    assert live.evaluates_aside == (cores == 1)
    live.close()


def test_auto_trains_every_batch_size_on_the_same_engine(mnist):
    from app.mnist.engine import resolve_engine

    small = Trainer(TrainConfig(batch_size=10, epochs=1), mnist)
    large = Trainer(TrainConfig(batch_size=1000, epochs=1), mnist)
    assert small.engine == large.engine == resolve_engine("auto")
    assert Trainer(TrainConfig(batch_size=128), mnist, engine="numpy").engine == "numpy"
