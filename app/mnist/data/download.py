"""Download one file over HTTP(S): short timeouts, SHA-256 checked, written atomically.

The bytes stream into a temporary file beside the destination and are renamed
onto it only once their size and SHA-256 match what was expected, so a
checksum mismatch, a cut-off transfer or an interrupt never leaves a partial or
unverified file behind.  Opening the connection (name lookup, connect, TLS and
the response headers) runs against a hard deadline, because a name lookup has no
timeout of its own and an offline machine must fail fast rather than hang.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "CHUNK",
    "DownloadError",
    "Progress",
    "RemoteFile",
    "download",
    "sha256_of",
    "temp_beside",
]

Progress = Callable[[str, int, "int | None"], None]

CHUNK = 1 << 16
CONNECT_TIMEOUT = 5.0  # seconds to get the response headers
READ_TIMEOUT = 30.0  # seconds without a single byte before giving up
MAX_UNSIZED = 256 << 20  # refuse to stream more than this when no size is expected


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch and the SHA-256 (and, when known, the size) it must have."""

    url: str
    sha256: str
    size: int | None = None

    @property
    def name(self) -> str:
        return urllib.parse.urlsplit(self.url).path.rsplit("/", 1)[-1] or "download"

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).netloc or self.url


class DownloadError(RuntimeError):
    """A download failed; the message says which file, from where, and why."""


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def temp_beside(dest: Path) -> Path:
    """A fresh hidden name next to ``dest`` to write into before renaming onto it.

    (Not ``tempfile.mkstemp``: its files are private 0600, this one follows the umask.)
    """
    return dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}.part")


def download(
    remote: RemoteFile,
    dest: Path,
    progress: Progress | None = None,
    *,
    connect_timeout: float = CONNECT_TIMEOUT,
    read_timeout: float = READ_TIMEOUT,
) -> Path:
    """Fetch ``remote`` to ``dest`` (verified, atomically); raise DownloadError on any failure."""
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    label = f"{remote.name} from {remote.host}"
    response = _open(remote, connect_timeout, read_timeout)
    tmp = temp_beside(dest)
    try:
        with response, open(tmp, "xb") as out:
            digest = _stream(remote, response, out, label, progress)
        _verify(remote, digest)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _open(remote: RemoteFile, connect_timeout: float, read_timeout: float):
    """Open the URL, giving up after ``connect_timeout`` seconds whatever is slow."""
    request = urllib.request.Request(remote.url, headers={"User-Agent": "gdviz"})
    outcome: dict = {}
    abandoned = threading.Event()

    def attempt() -> None:
        try:
            response = urllib.request.urlopen(request, timeout=read_timeout)
        except BaseException as err:  # handed to the waiting thread
            outcome["error"] = err
            return
        outcome["response"] = response
        if abandoned.is_set():
            response.close()

    worker = threading.Thread(target=attempt, name="gdviz-download-open", daemon=True)
    worker.start()
    worker.join(connect_timeout)
    if worker.is_alive():
        abandoned.set()
        if "response" in outcome:  # it answered just now: the worker may have missed the flag
            outcome["response"].close()
        raise DownloadError(f"{remote.host} did not answer within {connect_timeout:g} s")
    if "error" in outcome:
        err = outcome["error"]
        if isinstance(err, urllib.error.HTTPError):
            err.close()
        raise DownloadError(_describe(remote, err)) from err
    return outcome["response"]


def _describe(remote: RemoteFile, err: BaseException) -> str:
    """A one-line reason that a person can act on."""
    if isinstance(err, urllib.error.HTTPError):
        return f"{remote.host} answered {err.code} {err.reason} for {remote.url}"
    if isinstance(err, urllib.error.URLError):
        reason = err.reason
        text = getattr(reason, "strerror", None) or str(reason)
        return f"cannot reach {remote.host}: {text}"
    if isinstance(err, TimeoutError):
        return f"{remote.host} did not answer in time"
    return f"cannot fetch {remote.url}: {err}"


def _stream(remote: RemoteFile, response, out: IO[bytes], label: str, progress) -> str:
    """Copy the body to ``out`` while hashing it; return the hex SHA-256."""
    announced = _content_length(response)
    if remote.size is not None and announced is not None and announced != remote.size:
        raise DownloadError(
            f"{remote.host} offers {announced:,} bytes for {remote.name}, "
            f"expected {remote.size:,}: not the published file"
        )
    total = remote.size if remote.size is not None else announced
    limit = total if total is not None else MAX_UNSIZED
    digest = hashlib.sha256()
    done = 0
    if progress:
        progress(label, 0, total)
    while True:
        try:
            block = response.read(CHUNK)
        except (OSError, http.client.HTTPException) as err:
            raise DownloadError(
                f"download of {remote.name} from {remote.host} broke off after {done:,} bytes "
                f"({type(err).__name__})"
            ) from err
        if not block:
            break
        done += len(block)
        if done > limit:
            raise DownloadError(f"{remote.host} sent more than {limit:,} bytes for {remote.name}")
        digest.update(block)
        out.write(block)
        if progress:
            progress(label, done, total)
    if total is not None and done != total:
        raise DownloadError(
            f"download of {remote.name} from {remote.host} was cut off after "
            f"{done:,} of {total:,} bytes"
        )
    return digest.hexdigest()


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.strip().isdigit() else None


def _verify(remote: RemoteFile, actual: str) -> None:
    if actual != remote.sha256.lower():
        raise DownloadError(
            f"{remote.name} from {remote.host} failed its checksum (SHA-256 {actual}, "
            f"expected {remote.sha256.lower()}); the file was discarded"
        )
