"""Saving and loading the trained network: round trip, atomic writes, corrupt files, caching."""

import os
import zipfile

import numpy as np
import pytest

from app.mnist import model_store
from app.mnist.model_store import (
    ModelFileError,
    load_metadata,
    load_network,
    load_saved_network,
    save_network,
)
from app.mnist.network import Network


@pytest.fixture(autouse=True)
def _own_data_dir(tmp_path, monkeypatch):
    """Never touch a data folder shared with other tests."""
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("GDVIZ_MODEL_PATH", raising=False)


def trained_looking(seed=0, **kwargs):
    net = Network(seed=seed, **kwargs)
    for b in net.biases:
        b[:] = np.random.default_rng(seed).normal(size=b.shape)
    return net


@pytest.mark.parametrize(
    "kwargs",
    [{}, {"sizes": (784, 32, 10), "activation": "relu", "cost": "cross_entropy"}],
)
def test_round_trip_keeps_every_number_and_setting(tmp_path, kwargs):
    net = trained_looking(**kwargs)
    path = save_network(net, tmp_path / "net.npz", metadata={"test_accuracy": 0.9, "source": "x"})
    loaded = load_network(path)
    assert (loaded.sizes, loaded.activation, loaded.cost_name) == (
        net.sizes,
        net.activation,
        net.cost_name,
    )
    for mine, theirs in zip(net.parameters, loaded.parameters, strict=True):
        assert theirs.dtype == np.float32
        np.testing.assert_array_equal(mine, theirs)
    x = np.random.default_rng(1).random((3, 784), dtype=np.float32)
    np.testing.assert_array_equal(net.forward(x), loaded.forward(x))
    assert load_metadata(path) == {"test_accuracy": 0.9, "source": "x"}


def test_default_path_is_the_settings_model_path(tmp_path):
    path = save_network(trained_looking())
    assert path == tmp_path / "data" / "model.npz"
    assert load_network().parameter_count == 13_002


def test_the_write_is_atomic_and_leaves_no_temporary_files(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    save_network(trained_looking(1), path)
    before = path.read_bytes()

    def broken_savez(file, **arrays):
        file.write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken_savez)
    with pytest.raises(OSError, match="disk full"):
        save_network(trained_looking(2), path)
    assert path.read_bytes() == before  # the old network is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.npz"]


def test_no_file_is_a_clear_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="gdviz train"):
        load_network(tmp_path / "missing.npz")
    assert load_saved_network(tmp_path / "missing.npz") is None
    assert load_saved_network() is None


def corrupt_files(tmp_path):
    good = save_network(trained_looking(), tmp_path / "good.npz")
    arrays = dict(np.load(good))
    yield "random bytes", os.urandom(500)
    yield "truncated", good.read_bytes()[:3000]
    yield "empty", b""
    for missing in ("weight_1", "format", "metadata"):
        yield f"no {missing}", {k: v for k, v in arrays.items() if k != missing}
    yield "wrong shape", {**arrays, "weight_1": np.zeros((3, 3), np.float32)}
    yield "not finite", {**arrays, "bias_0": np.full(16, np.nan, np.float32)}
    yield "bad activation", {**arrays, "activation": np.array("tanh")}
    yield "other format", {**arrays, "format": np.array("something-else")}
    yield "pickled object", {**arrays, "sizes": np.array([784, 16, 16, 10], dtype=object)}
    yield "metadata not json", {**arrays, "metadata": np.array("{oops")}


def test_a_corrupt_file_is_a_clear_model_file_error(tmp_path):
    for name, content in corrupt_files(tmp_path):
        path = tmp_path / "bad.npz"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            np.savez(path, **content)
        with pytest.raises(ModelFileError, match="not a readable gdviz network") as info:
            load_network(path)
        assert str(path) in str(info.value), name
        with pytest.raises(ModelFileError):
            load_saved_network(path)


def test_the_saved_file_holds_no_pickles(tmp_path):
    path = save_network(trained_looking(), tmp_path / "net.npz", metadata={"a": [1, 2]})
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            header = archive.read(name)[:128]
            assert b"'descr': '|O'" not in header and b"'descr': 'O'" not in header


def test_metadata_must_be_plain_json_and_weights_finite(tmp_path):
    with pytest.raises(ValueError):
        save_network(trained_looking(), tmp_path / "net.npz", metadata={"x": float("nan")})
    broken = trained_looking()
    broken.biases[1][3] = np.inf
    with pytest.raises(ValueError, match="not all finite"):
        save_network(broken, tmp_path / "net.npz")
    assert list(tmp_path.iterdir()) == []


def test_load_saved_network_caches_until_the_file_changes(tmp_path, monkeypatch):
    path = tmp_path / "net.npz"
    save_network(trained_looking(1), path)
    reads = []
    real_load = model_store.load_network
    monkeypatch.setattr(model_store, "load_network", lambda p: reads.append(p) or real_load(p))
    first = load_saved_network(path)
    assert load_saved_network(path) is first
    assert len(reads) == 1
    replacement = trained_looking(2)
    save_network(replacement, path)
    second = load_saved_network(path)
    assert len(reads) == 2 and second is not first
    np.testing.assert_array_equal(second.weights[0], replacement.weights[0])
    path.unlink()
    assert load_saved_network(path) is None
