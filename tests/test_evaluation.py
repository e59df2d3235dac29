"""Where the network fails: the confusion matrix against a direct count, and its mistakes."""

import numpy as np

from app.mnist.evaluation import confusion_matrix, evaluate_network, mistakes, predictions
from app.mnist.network import Network
from app.mnist.training import TrainConfig, Trainer
from tests.test_training import synthetic


def counted(labels, predicted):
    """The confusion matrix the slow, obvious way: one pair at a time."""
    table = [[0] * 10 for _ in range(10)]
    for t, p in zip(labels, predicted, strict=True):
        table[int(t)][int(p)] += 1
    return table


def test_confusion_matrix_is_a_direct_count_rows_true_columns_predicted():
    rng = np.random.default_rng(3)
    labels, predicted = rng.integers(0, 10, 500), rng.integers(0, 10, 500)
    assert confusion_matrix(labels, predicted).tolist() == counted(labels, predicted)
    # a hand-worked case: two 4s read as 9, one 9 read as 4, a 7 read right
    assert confusion_matrix([4, 4, 9, 7], [9, 9, 4, 7])[4, 9] == 2
    assert confusion_matrix([4, 4, 9, 7], [9, 9, 4, 7])[9, 4] == 1


def test_mistakes_list_each_wrong_digit_under_its_cell():
    labels, predicted = [4, 4, 9, 7, 1, 4], [9, 9, 4, 7, 1, 9]
    assert mistakes(labels, predicted) == {"4,9": [0, 1, 5], "9,4": [2]}


def test_evaluate_network_agrees_with_its_own_forward_pass():
    data = synthetic(50, 300)
    net = Network(seed=4)
    result = evaluate_network(net, data.x_test, data.y_test)
    out = net.forward(data.x_test)
    predicted = out.argmax(axis=1)
    assert result["confusion"] == counted(data.y_test, predicted)
    assert result["accuracy"] == np.mean(predicted == data.y_test)
    assert result["cost"] == net.cost(data.x_test, np.eye(10)[data.y_test])
    for cell, indices in result["mistakes"].items():
        t, p = map(int, cell.split(","))
        assert all(data.y_test[k] == t and predicted[k] == p for k in indices)
    assert sum(map(len, result["mistakes"].values())) == np.count_nonzero(predicted != data.y_test)


def test_training_evaluations_carry_the_confusion_of_the_test_split():
    data = synthetic(400, 150)
    trainer = Trainer(TrainConfig(epochs=1, batch_size=10), data)
    trainer.run(trainer.total_steps)
    result = trainer.evaluate()
    confusion = np.array(result["confusion"])
    assert confusion.sum() == len(data.y_test)
    assert np.trace(confusion) / len(data.y_test) == result["test_accuracy"]
    direct = counted(data.y_test, predictions(trainer.network, data.x_test))
    assert result["confusion"] == direct


def test_evaluations_carry_each_layers_bias_gradient_norm():
    data = synthetic(1500, 20)
    trainer = Trainer(TrainConfig(batch_size=50, epochs=3), data)
    trainer.run(5)
    reference = Network(trainer.network.sizes, dtype=np.float64)
    reference.flat[...] = trainer.network.flat
    # over the first 1,000 training digits, with the parameters of the moment
    _, nabla_b = reference.gradients(data.x_train[:1000], np.eye(10)[data.y_train[:1000]])
    expected = [np.linalg.norm(b) for b in nabla_b]
    np.testing.assert_allclose(trainer.evaluate()["gradient_norms"], expected, rtol=1e-4)
    snapshot = trainer.snapshot()
    trainer.run(3)
    later = trainer.evaluate_snapshot(snapshot)["gradient_norms"]
    np.testing.assert_allclose(later, expected, rtol=1e-4)  # the snapshot's, not the live net's
