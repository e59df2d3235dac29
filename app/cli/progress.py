"""The data layer's progress callback drawn as tqdm bars, for ``gdviz data`` and ``gdviz train``.

The data layer reports ``progress(label, done, total_or_None)`` (the web page shows
the same reports as status messages); here each label gets its own tqdm bar in
bytes, closed when it completes or the next label begins.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm

__all__ = ["download_bar"]


class _DownloadBars:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.label: str | None = None
        self.bar: tqdm | None = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if label != self.label:
            self.close()
            self.label = label
            self.bar = tqdm(
                desc=label, total=total, unit="B", unit_scale=True, file=self.stream, leave=True
            )
        assert self.bar is not None
        if total and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)
        if total and done >= total:
            self.close()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.label, self.bar = None, None


def download_bar(stream: TextIO | None = None) -> _DownloadBars:
    """A progress callback that draws one tqdm bar per file on ``stream`` (stderr by default)."""
    return _DownloadBars(stream if stream is not None else sys.stderr)
