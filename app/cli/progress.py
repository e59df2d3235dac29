"""The data layer's progress callback drawn as tqdm bars, for ``gdviz data`` and ``gdviz train``.

The data layer reports ``progress(label, done, total_or_None)`` (the web page shows
the same reports as status messages); here each label gets its own tqdm bar in
bytes, closed when the next label begins or the ``with`` block ends.
"""

from __future__ import annotations

import contextlib
import sys
from typing import TextIO

from tqdm import tqdm

__all__ = ["TqdmProgress"]


class TqdmProgress(contextlib.AbstractContextManager):
    """The data layer's ``progress(label, done, total_or_None)`` drawn as one tqdm bar per label."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.bar: tqdm | None = None

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if self.bar is None or self.bar.desc != label:
            self.close()
            self.bar = tqdm(desc=label, total=total, unit="B", unit_scale=True, file=self.stream)
        if total != self.bar.total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __exit__(self, *exc) -> None:
        self.close()
