"""``gdviz train`` end to end on a small synthetic data set."""

import io

import numpy as np
import pytest

from app import cli
from app.cli import train as train_command
from app.mnist import data as mnist_data
from app.mnist.data import Dataset, DataUnavailableError
from app.mnist.model_store import load_metadata, load_network, load_saved_network
from app.mnist.training import TrainConfig, Trainer


def synthetic(n_train=300, n_test=100, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = rng.random((10, 784))

    def draw(n):
        y = rng.integers(0, 10, n)
        x = np.clip(prototypes[y] + rng.normal(0, 0.25, (n, 784)), 0, 1).astype(np.float32)
        return x, y.astype(np.int64)

    return Dataset(*draw(n_train), *draw(n_test), source="synthetic test digits")


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A private data folder and the synthetic digits in place of MNIST."""
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(tmp_path))
    monkeypatch.setattr(mnist_data, "load_mnist", lambda progress=None, **kw: synthetic())
    return tmp_path


def test_train_reports_accuracy_and_saves_the_model(data_dir, capsys):
    args = ["--epochs", "2", "--hidden", "8", "--cost", "cross_entropy", "--lr", "0.5"]
    code = cli.main(["train", *args])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "data: synthetic test digits: 300 training and 100 test digits" in err
    assert "epoch 1/2: cost" in err and "epoch 2/2: cost" in err and "test accuracy" in err
    assert "test accuracy: " in out and f"saved the network to {data_dir / 'model.npz'}" in out
    net = load_network(data_dir / "model.npz")
    assert (net.sizes, net.cost_name) == ((784, 8, 10), "cross_entropy")
    assert load_saved_network() is not None
    meta = load_metadata()
    assert meta["source"] == "synthetic test digits"
    assert meta["config"]["epochs"] == 2 and meta["config"]["hidden"] == [8]
    reported = float(out.split("test accuracy: ")[1].split("%")[0]) / 100
    assert meta["test_accuracy"] == pytest.approx(reported, abs=5e-5)
    assert meta["test_accuracy"] > 0.8  # the synthetic digits are easy


def test_augment_trains_on_changed_digits_and_is_saved_in_the_config(data_dir, capsys, monkeypatch):
    seen = []
    real = train_command.Trainer

    class Recording(real):
        def _train_step(self):
            record = super()._train_step()
            seen.append(self._x_epoch is not self.x_train)  # what this step read
            return record

    monkeypatch.setattr(train_command, "Trainer", Recording)
    code = cli.main(["train", "--epochs", "1", "--augment", "--lr", "1"])
    assert code == 0, capsys.readouterr().err
    assert seen and all(seen)  # every step read augmented digits
    assert load_metadata()["config"]["augment"] is True


@pytest.mark.parametrize("engine", ["numpy", "numba"])
def test_training_runs_on_the_chosen_engine_with_its_blas_threads(
    data_dir, monkeypatch, capsys, engine
):
    from threadpoolctl import threadpool_info

    if engine == "numba":
        pytest.importorskip("numba")  # CI installs it, and fails any skip
    seen = []
    real_run = Trainer.run

    def run(self, max_steps):
        blas = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
        seen.append((self.engine, self.blas_threads, blas))
        return real_run(self, max_steps)

    monkeypatch.setattr(Trainer, "run", run)
    monkeypatch.setenv("GDVIZ_ENGINE", engine)
    assert cli.main(["train", "--epochs", "1"]) == 0
    err = capsys.readouterr().err
    assert f"engine: {engine}" in err
    assert "each step on" not in err  # batch 10: one core
    assert seen and all(e == engine and blas == {threads} for e, threads, blas in seen)
    assert cli.main(["train", "--epochs", "1", "--batch-size", "1000"]) == 0
    assert "each step on 2 cores" in capsys.readouterr().err  # BLAS's pair, or two parts


@pytest.mark.parametrize(
    "args, message",
    [
        (["--lr", "-1"], "learning rate must be a number in"),
        (["--hidden", "8", "8", "8", "8", "8"], "at most 4 hidden layers"),
        (["--hidden", "0"], "hidden layer size must lie between 1 and 512"),
        (["--optimizer", "lbfgs"], "unknown optimizer 'lbfgs'"),
        (["--epochs", "0"], "epochs must lie between 1 and 1000"),
    ],
)
def test_bad_settings_exit_2_with_a_message_and_save_nothing(data_dir, capsys, args, message):
    assert cli.main(["train", *args]) == 2
    assert message in capsys.readouterr().err
    assert not (data_dir / "model.npz").exists()


def test_no_data_exits_1_with_the_reason(data_dir, monkeypatch, capsys):
    def unavailable(progress=None, **kw):
        raise DataUnavailableError("could not get the MNIST digits. Tried: everything")

    monkeypatch.setattr(mnist_data, "load_mnist", unavailable)
    assert cli.main(["train"]) == 1
    assert "could not load the digits: could not get the MNIST digits" in capsys.readouterr().err


def test_a_diverged_run_exits_1_and_saves_nothing(data_dir, monkeypatch, capsys):
    class Diverging(Trainer):
        def __init__(self, config, data, engine="auto"):
            super().__init__(config, data, engine)
            self.network.weights[0][:] = np.nan

    monkeypatch.setattr(train_command, "Trainer", Diverging)
    assert cli.main(["train", "--epochs", "1"]) == 1
    assert "training diverged after 0 steps" in capsys.readouterr().err
    assert not (data_dir / "model.npz").exists()


def test_on_a_terminal_the_progress_bar_is_redrawn_in_place(data_dir, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(train_command, "REDRAW_SECONDS", 0.0)
    stream = Terminal()
    trainer, seconds = train_command._train(TrainConfig(epochs=3), synthetic(), stream)
    text = stream.getvalue()
    assert trainer.done and seconds > 0
    assert text.count("\r") >= 3 and text.endswith("\n") and text.count("\n") == 1
    final = text.split("\r")[-1]
    assert final.startswith("epoch 3/3 ") and "100% 90/90 steps, cost " in final
    assert "test accuracy" in final


def test_into_a_file_one_line_per_epoch(data_dir):
    stream = io.StringIO()
    train_command._train(TrainConfig(epochs=3), synthetic(), stream)
    lines = stream.getvalue().splitlines()
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("cost " in line and "test accuracy" in line for line in lines)


def test_the_training_time_reads_as_a_person_reads_it():
    """A 5-epoch training at batch 128 takes ~20 ms: "0.0 s" said nothing."""
    from app.cli.train import _duration

    assert _duration(0.0217) == "22 ms"
    assert _duration(0.27) == "0.27 s"
    assert _duration(12.34) == "12.3 s"
