"""Save and load the trained digit network as a plain ``.npz`` file (no pickles).

The file holds the layer sizes, activation and cost, every weight and bias, and
a JSON string of metadata (test accuracy, data source, settings). It is written
to a temporary file and renamed into place, so a server reading it never sees
half a file; the server re-reads it when it changes, without a restart.
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np

from app.mnist.network import Network

__all__ = [
    "ModelFileError",
    "load_metadata",
    "load_network",
    "load_saved_network",
    "save_network",
]

FORMAT = "gdviz-network-1"


class ModelFileError(ValueError):
    """A saved-network file exists but cannot be read as one."""


def save_network(network: Network, path: Path | None = None, metadata: dict | None = None) -> Path:
    """Write ``network`` (and JSON-able ``metadata``) to ``path`` atomically; return the path."""
    if not np.isfinite(network.flat).all():
        raise ValueError("refusing to save a network whose weights are not all finite numbers")
    path = Path(path) if path is not None else _default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {
        "format": np.array(FORMAT),
        "sizes": np.array(network.sizes, dtype=np.int64),
        "activation": np.array(network.activation),
        "cost": np.array(network.cost_name),
        "metadata": np.array(json.dumps(metadata or {}, allow_nan=False)),
    }
    for i, (w, b) in enumerate(zip(network.weights, network.biases, strict=True)):
        arrays[f"weight_{i}"] = w
        arrays[f"bias_{i}"] = b
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o644)  # mkstemp makes it private; a model file is not a secret
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_network(path: Path | None = None) -> Network:
    """Read a saved network; FileNotFoundError if there is none, ModelFileError if corrupt."""
    return _read(Path(path) if path is not None else _default_path())[0]


def load_metadata(path: Path | None = None) -> dict:
    """The metadata saved beside the network (test accuracy, data source, settings)."""
    return _read(Path(path) if path is not None else _default_path())[1]


def _read(path: Path) -> tuple[Network, dict]:
    if not path.is_file():
        raise FileNotFoundError(f"no saved network at {path}: train one with `gdviz train`")
    try:
        with np.load(path, allow_pickle=False) as npz:
            return _network_from(npz)
    except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(
            f"{path} is not a readable gdviz network ({exc}); "
            "delete it or train again with `gdviz train`"
        ) from exc


def _network_from(npz) -> tuple[Network, dict]:
    if str(npz["format"]) != FORMAT:
        raise ValueError(f"unknown format {str(npz['format'])!r}")
    sizes = [int(n) for n in npz["sizes"]]
    network = Network(sizes, str(npz["activation"]), str(npz["cost"]))
    layers = range(len(sizes) - 1)
    network.set_parameters([npz[f"weight_{i}"] for i in layers], [npz[f"bias_{i}"] for i in layers])
    metadata = json.loads(str(npz["metadata"]))
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not a JSON object")
    return network, metadata


_cache: dict[str, tuple[tuple[int, ...], Network]] = {}
_cache_lock = threading.Lock()


def load_saved_network(path: Path | None = None) -> Network | None:
    """The saved network, or None when none was trained yet; re-read only when the file changes.

    Cached by the file's inode, size and modification time, so a server picks up
    a network saved by ``gdviz train`` on its next request without re-reading the
    file on every request. A corrupt file raises ModelFileError.
    """
    path = Path(path) if path is not None else _default_path()
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    key = str(path.resolve())
    stamp = (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            network = load_network(path)
        except FileNotFoundError:  # removed between stat and read
            return None
        _cache[key] = (stamp, network)
        return network


def _default_path() -> Path:
    """``GDVIZ_MODEL_PATH`` or the data folder's model.npz.

    Imported here, not at the top: the settings need pydantic, and the network's
    modules stay importable with NumPy alone (tests/test_network.py checks it).
    """
    from app.settings import settings

    return settings().saved_model
