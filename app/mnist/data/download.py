"""Download one file with pooch: SHA-256 checked, written atomically, failing fast.

pooch (over requests) streams the file into a temporary file beside the destination
and moves it into place only once its SHA-256 matches, so a bad checksum or a
cut-off transfer never leaves a partial file behind.  What this module adds:

- a name lookup under a deadline first, because requests' timeouts start only once
  the host's address is known and an offline machine's resolver may take many
  seconds to give up — the mirrors must fail within seconds so the offline sample
  can take over;
- the data layer's progress callback ``progress(label, done, total_or_None)``,
  fed by a tqdm-like object that pooch drives;
- one-line reasons a person can act on instead of requests' nested exceptions.
"""

from __future__ import annotations

import logging
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pooch
import requests
from requests.utils import get_environ_proxies, select_proxy

__all__ = ["Progress", "RemoteFile", "SourceError", "download"]

Progress = Callable[[str, int, "int | None"], None]

CONNECT_TIMEOUT = 5.0  # seconds for the name lookup, and again for the connection
READ_TIMEOUT = 10.0  # seconds of silence (before the headers or between bytes) before giving up
CHUNK = 1 << 16

# pooch logs every download at INFO ("Downloading data from ..."); the progress
# callback already says so, and the CLI's bar would be interleaved with it.
pooch.get_logger().setLevel(logging.WARNING)


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch and the SHA-256 it must have."""

    url: str
    sha256: str

    @property
    def name(self) -> str:
        return urllib.parse.urlsplit(self.url).path.rsplit("/", 1)[-1] or "download"

    @property
    def host(self) -> str:
        return urllib.parse.urlsplit(self.url).netloc or self.url


class SourceError(RuntimeError):
    """A source (a download, a mirror, the sample) could not deliver; the message says why."""


def download(
    remote: RemoteFile,
    folder: Path,
    progress: Progress | None = None,
    *,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT, READ_TIMEOUT),
) -> Path:
    """Fetch ``remote`` into ``folder`` (verified, atomically); SourceError saying why if not."""
    _look_up(remote, timeout[0])
    label = f"{remote.name} from {remote.host}"
    downloader = pooch.HTTPDownloader(
        progressbar=_Reporter(label, progress) if progress else False,
        chunk_size=CHUNK,
        timeout=timeout,
        headers={"User-Agent": "gdviz"},
    )
    try:
        path = pooch.retrieve(
            remote.url,
            known_hash=f"sha256:{remote.sha256}",
            fname=remote.name,
            path=folder,
            downloader=downloader,
        )
    except requests.RequestException as err:
        raise SourceError(_describe(remote, err, timeout)) from err
    except ValueError as err:  # pooch's checksum mismatch; it has deleted the file
        raise SourceError(f"{remote.name} from {remote.host}: {err}") from err
    return Path(path)


def _look_up(remote: RemoteFile, deadline: float) -> None:
    """Resolve the host to connect to (the URL's, or its proxy's) within ``deadline`` seconds."""
    proxy = select_proxy(remote.url, get_environ_proxies(remote.url))
    parts = urllib.parse.urlsplit(proxy or remote.url)
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            socket.getaddrinfo(parts.hostname, None, type=socket.SOCK_STREAM)
            outcome.append(None)
        except OSError as err:
            outcome.append(err)

    worker = threading.Thread(target=attempt, name="gdviz-name-lookup", daemon=True)
    worker.start()
    worker.join(deadline)
    who = parts.hostname if proxy is None else f"the proxy {parts.hostname}"
    if not outcome:  # the lookup is still running; its daemon thread is left to finish
        raise SourceError(f"cannot reach {remote.host}: looking up {who} took over {deadline:g} s")
    if outcome[0] is not None:
        reason = getattr(outcome[0], "strerror", None) or outcome[0]
        raise SourceError(f"cannot reach {remote.host}: looking up {who} failed ({reason})")


class _Reporter:
    """The tqdm-like object pooch drives, turned into calls of the progress callback."""

    def __init__(self, label: str, progress: Progress) -> None:
        self.label, self.progress, self.done, self.size = label, progress, 0, None

    @property
    def total(self) -> int | None:
        return self.size

    @total.setter
    def total(self, value: int) -> None:  # set once the headers arrive; 0 when not announced
        self.size = value or None
        self.progress(self.label, 0, self.size)

    def update(self, n: int) -> None:  # n is the chunk size: the last chunk may be shorter
        self.done = min(self.done + n, self.size or self.done + n)
        self.progress(self.label, self.done, self.size)

    def reset(self) -> None:  # pooch ends with reset(), update(total), close()
        self.done = 0 if self.size else self.done

    def close(self) -> None:
        pass


def _describe(remote: RemoteFile, err: requests.RequestException, timeout) -> str:
    """A one-line reason for a failed request."""
    if isinstance(err, requests.HTTPError) and err.response is not None:
        return f"{remote.host} answered {err.response.status_code} {err.response.reason}"
    if isinstance(err, requests.ConnectTimeout):
        return f"cannot reach {remote.host}: no connection within {timeout[0]:g} s"
    if isinstance(err, requests.ReadTimeout):
        return f"{remote.host} went silent for {timeout[1]:g} s"
    if isinstance(err, requests.exceptions.ChunkedEncodingError):
        return f"the transfer of {remote.name} from {remote.host} broke off: {_root_cause(err)}"
    return f"cannot reach {remote.host}: {_root_cause(err)}"


def _root_cause(err: BaseException) -> str:
    """The innermost reason in requests' and urllib3's chain of wrapped exceptions."""
    seen: list[BaseException] = []
    while err is not None and err not in seen:
        seen.append(err)
        inner = err.args[-1] if err.args and isinstance(err.args[-1], BaseException) else None
        err = getattr(err, "reason", None) or inner or err.__cause__ or err.__context__
    last = seen[-1]
    return getattr(last, "strerror", None) or str(last)
