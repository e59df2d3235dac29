"""A dependency-free text progress bar for the command line (``gdviz data``, ``gdviz train``).

It is a callable with the signature of the data layer's progress callback,
``bar(label, done, total_or_None)``, so it can be handed straight to ``load_mnist``.
On a terminal it redraws one line in place (at most every ``min_interval`` seconds);
into a file or pipe it writes one line per finished task instead of a stream of
carriage returns.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar", "format_amount", "format_bar"]


def format_amount(n: float, unit: str = "bytes") -> str:
    """``11,490,434`` bytes → ``11.5 MB``; any other unit → ``1,234 steps``."""
    if unit != "bytes":
        return f"{n:,.0f} {unit}"
    for scale, name in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if n >= scale:
            return f"{n / scale:.1f} {name}"
    return f"{n:.0f} B"


def format_bar(done: float, total: float | None, width: int = 30, unit: str = "bytes") -> str:
    """``[#########---------]  45%  5.2 MB / 11.5 MB``, or just the amount when total is unknown."""
    if not total:
        return format_amount(done, unit)
    fraction = min(max(done / total, 0.0), 1.0)
    filled = int(fraction * width)
    bar = "#" * filled + "-" * (width - filled)
    return f"[{bar}] {fraction:4.0%}  {format_amount(done, unit)} / {format_amount(total, unit)}"


class ProgressBar:
    """Draws ``label [####----] 45%  5.2 MB / 11.5 MB`` on ``stream`` (stderr by default)."""

    def __init__(
        self,
        stream: TextIO | None = None,
        width: int = 30,
        unit: str = "bytes",
        min_interval: float = 0.1,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width, self.unit, self.min_interval = width, unit, min_interval
        self.interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self._label: str | None = None
        self._last_draw = 0.0
        self._line = ""

    def __call__(self, label: str, done: float, total: float | None) -> None:
        if label != self._label:
            self.close()
            self._label = label
        finished = bool(total) and done >= total
        text = f"{label} {format_bar(done, total, self.width, self.unit)}"
        if self.interactive:
            now = time.monotonic()
            if finished or now - self._last_draw >= self.min_interval:
                pad = " " * max(len(self._line) - len(text), 0)
                self.stream.write(f"\r{text}{pad}")
                self.stream.flush()
                self._line, self._last_draw = text, now
        else:
            self._line = text
        if finished:
            self.close()

    def close(self) -> None:
        """End the current line (a finished or abandoned task)."""
        if self._label is not None and self._line:
            self.stream.write("\n" if self.interactive else f"{self._line}\n")
            self.stream.flush()
        self._label, self._line = None, ""
