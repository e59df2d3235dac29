"""A real HTTP server on 127.0.0.1 and small fake MNIST files, for the data layer's tests.

The fake files are written straight from their specifications (struct for IDX, NumPy
for npz), independently of the parsers under test.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import socket
import struct
import threading
import urllib.parse

import numpy as np

IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


class FileServer:
    """Serves ``files`` (URL path -> bytes) and records the path of every request.

    A path under ``/cut/`` announces the file's full length but closes after half of it.
    Requests in proxy form (``GET http://host/path``) are answered too, so the server can
    stand in for an HTTP proxy.
    """

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = urllib.parse.urlsplit(self.path).path
                server.requests.append(path)
                cut = path.startswith("/cut/")
                body = server.files.get(path.removeprefix("/cut") if cut else path)
                if body is None:
                    self.send_error(404, "Not Found")
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def serve(self, path: str, blob: bytes) -> str:
        """Serve ``blob`` at ``path``; return its URL with ``#sha256=...`` as a mirror entry."""
        self.files[path] = blob
        return f"{self.url}{path}#sha256={sha(blob)}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def closed_port() -> int:
    """A local port that nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def sha(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def fake_arrays(n_train: int = 30, n_test: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images and cycling labels in the Keras layout (N × 28 × 28)."""
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": (np.arange(n_train) % 10).astype(np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": (np.arange(n_test) % 10).astype(np.uint8),
    }


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def idx_bytes(a: np.ndarray, type_code: int = 0x08, fmt: str = ">u1") -> bytes:
    """An IDX file written straight from the specification with struct."""
    header = bytes([0, 0, type_code, a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return header + a.astype(fmt).tobytes()
