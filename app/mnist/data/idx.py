"""Read MNIST's IDX files (LeCun's big-endian array format), gzipped or not.

An IDX file is a 4-byte magic number — two zero bytes, a type code and the number
of dimensions — then one big-endian uint32 per dimension, then the values in C
order.  MNIST's images are ``0x00000803`` (uint8, 3 dimensions: N × 28 × 28) and
its labels ``0x00000801`` (uint8, 1 dimension: N).  The four files of the set have
standard names, so given any one of them the other three can be found beside it.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

__all__ = ["IDX_ROLES", "DataFormatError", "find_idx_set", "parse_idx", "read_idx"]

GZIP_MAGIC = b"\x1f\x8b"

# type code -> big-endian dtype, as the IDX specification lists them
IDX_TYPES: dict[int, str] = {
    0x08: ">u1",
    0x09: ">i1",
    0x0B: ">i2",
    0x0C: ">i4",
    0x0D: ">f4",
    0x0E: ">f8",
}

# role -> (file stem, kind); the published names are e.g. ``train-images-idx3-ubyte.gz``
IDX_ROLES: dict[str, tuple[str, str]] = {
    "x_train": ("train-images", "idx3-ubyte"),
    "y_train": ("train-labels", "idx1-ubyte"),
    "x_test": ("t10k-images", "idx3-ubyte"),
    "y_test": ("t10k-labels", "idx1-ubyte"),
}


class DataFormatError(ValueError):
    """A file is not the MNIST data it claims to be; the message says what is wrong."""


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Decode the bytes of one IDX file (gunzipping them first if they are gzip)."""
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(data, name)
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise DataFormatError(
            f"{name} is not an IDX file: it should start with two zero bytes, a type code "
            "and a dimension count (MNIST images start 00 00 08 03, labels 00 00 08 01)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_TYPES:
        raise DataFormatError(f"{name} has an unknown IDX type code 0x{type_code:02x}")
    if ndim == 0:
        raise DataFormatError(f"{name} declares zero dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataFormatError(f"{name} is cut off inside its header")
    shape = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        dims = " × ".join(str(d) for d in shape)
        problem = "is truncated" if found < expected else "has extra bytes at the end"
        raise DataFormatError(
            f"{name} {problem}: its header declares {dims} values ({expected:,} bytes) "
            f"but {found:,} bytes follow"
        )
    values = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))


def read_idx(path: Path) -> np.ndarray:
    """Read one IDX file from disk (``.gz`` or not: the content decides)."""
    try:
        data = Path(path).read_bytes()
    except OSError as err:
        raise DataFormatError(f"cannot read {path}: {err.strerror or err}") from err
    return parse_idx(data, Path(path).name)


def find_idx_set(path: Path) -> dict[str, Path]:
    """Given one of MNIST's four IDX files, find all four in its folder by their standard names.

    Accepts the published names with or without ``.gz`` and the common variant with a dot
    before ``idx`` (``train-images.idx3-ubyte``).
    """
    path = Path(path)
    if _role_of(path.name) is None:
        names = ", ".join(f"{stem}-{kind}[.gz]" for stem, kind in IDX_ROLES.values())
        raise DataFormatError(
            f"{path.name} is not one of MNIST's four IDX file names ({names}); "
            "import a mnist.npz or one of those files"
        )
    found: dict[str, Path] = {}
    missing: list[str] = []
    for role, (stem, kind) in IDX_ROLES.items():
        candidates = [
            path.parent / f"{stem}{sep}{kind}{gz}" for sep in ("-", ".") for gz in (".gz", "")
        ]
        present = [c for c in candidates if c.is_file()]
        if present:
            found[role] = present[0]
        else:
            missing.append(f"{stem}-{kind}.gz")
    if missing:
        raise DataFormatError(
            f"{path.parent} lacks {', '.join(missing)}: MNIST's four IDX files "
            "(training and test images and labels) must sit in the same folder"
        )
    return found


def _role_of(filename: str) -> str | None:
    """The role (``x_train`` ...) that a file name stands for, or None."""
    base = filename.removesuffix(".gz")
    for role, (stem, kind) in IDX_ROLES.items():
        if base in (f"{stem}-{kind}", f"{stem}.{kind}"):
            return role
    return None


def _gunzip(data: bytes, name: str) -> bytes:
    try:
        return gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        raise DataFormatError(f"{name} is a damaged gzip file ({err})") from err
