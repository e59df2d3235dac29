"""Pens other than MNIST's, simulated on a digit drawn on the canvas (ink 1, background 0).

A fat marker is a grey dilation: every stroke widened by the same amount. A finer pen
is harder to simulate from a stored digit, because MNIST's strokes are not all equally
wide (a faint tail may be a fifth of the main stroke's width):

- ``eroded``: a grey erosion, the mirror of the marker, takes the same width off every
  stroke, and so erases every part thinner than twice that, which no pen does.
- ``thinned``: the strokes worn down by the same width a side, but never broken: a part
  too thin to lose more stays one pixel wide, a loop stays open. This is Zhang and Suen's
  thinning (1984, "A fast parallel algorithm for thinning digital patterns"), stopped
  after the given number of rounds instead of at the one-pixel skeleton. While a stroke
  has width to give, a round takes what a 3×3 erosion takes (tests/test_pens.py), so
  ``thinned(c, 5)`` is ``eroded(c, 5)`` with the broken parts kept. (A 2×2 block standing
  alone vanishes, a known flaw of the method: in a drawing, a speck rather than a stroke.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["eroded", "fattened", "thinned"]

#: The 8 neighbours P2…P9 of Zhang and Suen, clockwise from north, as (row, column) steps.
NEIGHBOURS = ((-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1))


def fattened(canvas: np.ndarray, radius: int) -> np.ndarray:
    """A fatter pen: the max over a (2·radius + 1)² square around each pixel."""
    return _square(canvas, radius, np.max, fill=0.0)


def eroded(canvas: np.ndarray, radius: int) -> np.ndarray:
    """A finer pen that breaks strokes: the min over a (2·radius + 1)² square."""
    return _square(canvas, radius, np.min, fill=1.0)


def thinned(canvas: np.ndarray, rounds: int) -> np.ndarray:
    """A finer pen that keeps every stroke: the ink (above half) worn down by up to
    ``rounds`` pixels a side, drawn with a one-pixel soft edge as a canvas pen's is."""
    ink = canvas > 0.5
    for _ in range(rounds):
        before = np.count_nonzero(ink)
        for deletable in _DELETABLE:
            ink &= ~deletable[_neighbour_codes(ink)]
        if np.count_nonzero(ink) == before:
            break  # the skeleton: no further round takes anything
    return _soft_edged(ink)


def _square(canvas: np.ndarray, radius: int, reduce, fill: float) -> np.ndarray:
    """``reduce`` over each pixel's square; beyond the canvas, ``fill`` (never the extreme)."""
    padded = np.pad(canvas, radius, constant_values=fill)
    side = 2 * radius + 1
    rows = reduce(np.lib.stride_tricks.sliding_window_view(padded, side, axis=0), axis=-1)
    return reduce(np.lib.stride_tricks.sliding_window_view(rows, side, axis=1), axis=-1)


def _neighbours(image: np.ndarray) -> list[np.ndarray]:
    """The image shifted so that each pixel sees neighbour P2, P3, … P9; beyond: blank."""
    padded = np.pad(image, 1)
    height, width = image.shape
    return [padded[1 + dy : 1 + dy + height, 1 + dx : 1 + dx + width] for dy, dx in NEIGHBOURS]


def _neighbour_codes(ink: np.ndarray) -> np.ndarray:
    """Each pixel's 8 neighbours as one byte, bit k for neighbour P(k + 2)."""
    codes = np.zeros(ink.shape, np.uint8)
    for bit, neighbour in enumerate(_neighbours(ink)):
        codes |= neighbour.astype(np.uint8) << bit
    return codes


def _deletion_tables() -> tuple[np.ndarray, np.ndarray]:
    """For each neighbourhood byte, whether an ink pixel may go in the first and in the
    second sub-round: on the edge (2–6 ink neighbours: not an end, not inside), a single
    ink run around it (taking it cannot split the stroke), and on the side the sub-round
    wears (south-east, then north-west), so a stroke thins evenly from both sides."""
    first = np.zeros(256, bool)
    second = np.zeros(256, bool)
    for code in range(256):
        p = [(code >> bit) & 1 for bit in range(8)]  # p[0] = P2 (north) … p[7] = P9
        runs = sum(p[k] == 0 and p[(k + 1) % 8] == 1 for k in range(8))
        if not (2 <= sum(p) <= 6 and runs == 1):
            continue
        north, east, south, west = p[0], p[2], p[4], p[6]
        first[code] = north * east * south == 0 and east * south * west == 0
        second[code] = north * east * west == 0 and north * south * west == 0
    return first, second


_DELETABLE = _deletion_tables()


def _soft_edged(ink: np.ndarray) -> np.ndarray:
    """Full ink where ``ink``; half for a blank pixel beside it (4-neighbour), a quarter
    for one touching it only at a corner: the grey rim an anti-aliased pen leaves."""
    shifted = _neighbours(ink.astype(np.float64))
    side = np.maximum.reduce(shifted[0::2])  # north, east, south, west
    corner = np.maximum.reduce(shifted[1::2])
    return np.maximum(ink, np.maximum(0.5 * side, 0.25 * corner))
