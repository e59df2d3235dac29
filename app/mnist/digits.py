"""Turn a digit drawn on the page into the 784 inputs the network was trained on.

MNIST's own recipe (LeCun, Cortes and Burges): each digit was scaled, keeping its
aspect ratio, to fit a 20×20 box — anti-aliased, so edges turn grey — and then
placed in a 28×28 field so that its centre of mass sits at the centre. A drawing
that skips these steps (a small digit in a corner, say) looks nothing like what
the network has seen, and is misread.

Convention: ink is 1, background 0 (white on black, as in MNIST).

Scaling and centring are one linear map done in NumPy: every output pixel is
the average of the source area it covers (a box filter, exact for fractional
overlaps), over a source window placed so that the centre of mass lands at the
centre — to a hundredth of a pixel or so, as box filtering moves it a little
(MNIST, shifting by whole pixels, is off by up to half a pixel). The shift is
sub-pixel, so the result changes smoothly as the drawing moves or grows.

One step MNIST did not need: its digits were written with similar pens, but a
drawing on the page may be made with a fat marker or a hairline, which a box
filter keeps (a stroke a fifth of the digit wide stays a fifth wide). So before
the box, a drawing whose strokes are thicker or thinner than those of 80 % of
MNIST's digits, for its size, is re-inked to MNIST's median stroke by a grey
erosion or dilation (``_restroke``; measured by ``python -m benchmarks.drawn_digits``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["EmptyCanvasError", "canvas_from_flat", "preprocess", "stroke_ratio"]

SIDE = 28  # the network's input is SIDE × SIDE
BOX = 20  # the digit's longer side, as in MNIST
#: MNIST's centre of mass in continuous coordinates (pixel i spans [i, i + 1)): the
#: 5,000-digit sample averages 13.99 and 14.00 in pixel-index terms, i.e. 14.5 here.
CENTRE = 14.5
MAX_SIDE = 1000  # largest canvas side accepted
INK = 0.1  # a pixel above this counts as ink when finding the digit's box
#: A digit's stroke width relative to its longer side (``stroke_ratio``) over the 4,000
#: stored training digits: 10th percentile 0.073, median 0.097, 90th 0.134
#: (tests/test_digits.py measures them again). Drawings in that range stay as drawn.
STROKE_MEDIAN = 0.097
STROKE_USUAL = (0.073, 0.134)
#: below this longer side (canvas pixels) a drawing is too coarse to re-ink: one pixel
#: of erosion would take away a third of a usual stroke
RESTROKE_FROM = 56


class EmptyCanvasError(ValueError):
    """The canvas holds no digit (nothing drawn, or only a speck)."""

    def __init__(self, message: str = "the canvas is empty: draw a digit first") -> None:
        super().__init__(message)


def canvas_from_flat(width: int, height: int, pixels: Sequence[float]) -> np.ndarray:
    """Check a row-major list of gray values and return it as a (height, width) array."""
    for name, value in (("width", width), ("height", height)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ValueError(f"{name} must be a whole number, not {value!r}")
        if not 1 <= value <= MAX_SIDE:
            raise ValueError(f"{name} must lie between 1 and {MAX_SIDE}, not {value}")
    try:
        flat = np.asarray(pixels)
    except (ValueError, TypeError):  # ragged nesting
        flat = np.asarray([], dtype=object)
    if flat.ndim != 1 or flat.dtype.kind not in "iuf":
        raise ValueError("pixels must be a flat list of numbers")
    if len(flat) != width * height:
        raise ValueError(f"expected width × height = {width * height} pixels, got {len(flat)}")
    return flat.astype(np.float64).reshape(height, width)


def preprocess(pixels: np.ndarray) -> np.ndarray:
    """Return the network's input (784,) float32 for a drawing (H, W) of gray values in [0, 1].

    Raises EmptyCanvasError when there is (almost) nothing drawn.
    """
    digit = _cropped(_restroke(_check_canvas(pixels)))
    h, w = digit.shape
    scale = max(h, w) / BOX  # source pixels per output pixel
    mass = digit.sum()
    cy = _centre_of_mass(digit.sum(axis=1), mass)
    cx = _centre_of_mass(digit.sum(axis=0), mass)
    out = _resample(digit, _window(cy, h, scale), _window(cx, w, scale), scale)
    return out.reshape(SIDE * SIDE).astype(np.float32)


def _check_canvas(pixels: np.ndarray) -> np.ndarray:
    image = np.asarray(pixels, dtype=np.float64)
    if image.ndim != 2 or not (1 <= min(image.shape) and max(image.shape) <= MAX_SIDE):
        raise ValueError(
            f"a canvas must be a 2-D array with sides 1..{MAX_SIDE}, not shape {image.shape}"
        )
    if not np.all(np.isfinite(image)):
        raise ValueError("pixel values must be finite numbers")
    if image.min() < 0.0 or image.max() > 1.0:
        raise ValueError("pixel values must lie in [0, 1] (0 = background, 1 = ink)")
    return image


def _ink_box(image: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """Row and column ranges (start, stop) of the ink; EmptyCanvasError if there is too little."""
    ink = image > INK
    # "Almost empty": a speck of a few pixels is not a digit (a 280×280 canvas needs 39).
    if np.count_nonzero(ink) < max(4, image.size // 2000):
        raise EmptyCanvasError()
    rows = np.flatnonzero(ink.any(axis=1))
    cols = np.flatnonzero(ink.any(axis=0))
    return (int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1)


def _cropped(image: np.ndarray) -> np.ndarray:
    """The image cut to its ink's box; EmptyCanvasError if there is too little ink."""
    rows, cols = _ink_box(image)
    return image[rows[0] : rows[1], cols[0] : cols[1]]


def _centre_of_mass(profile: np.ndarray, mass: float) -> float:
    """Centre of mass along one axis, pixel j spanning [j, j + 1)."""
    return float(np.dot(profile, np.arange(len(profile)) + 0.5) / mass)


def _window(centre: float, length: int, scale: float) -> float:
    """Source position of the output's left edge: centre of mass to CENTRE, ink kept inside."""
    origin = centre - CENTRE * scale
    # The box (at most BOX output pixels long) must stay within the SIDE-pixel field.
    return min(max(origin, length - SIDE * scale), 0.0)


def _resample(digit: np.ndarray, origin_y: float, origin_x: float, scale: float) -> np.ndarray:
    """Area-average ``digit`` onto the SIDE × SIDE grid, each pixel ``scale`` source pixels wide."""
    return (
        _box_matrix(origin_y, digit.shape[0], scale)
        @ digit
        @ _box_matrix(origin_x, digit.shape[1], scale).T
    )


def _box_matrix(origin: float, n: int, scale: float) -> np.ndarray:
    """Weights (SIDE, n): the fraction of output pixel k's span covered by source pixel j."""
    lo = origin + scale * np.arange(SIDE)[:, None]
    j = np.arange(n)[None, :]
    overlap = np.minimum(lo + scale, j + 1.0) - np.maximum(lo, j)
    return np.clip(overlap, 0.0, None) / scale


def stroke_ratio(digit: np.ndarray) -> float:
    """The strokes' width over the digit's longer side, for gray levels cropped to the ink.

    A stroke of width w and length l has area w·l and an outline about 2·l long, so
    w ≈ 2·area / outline; the outline of a gray image is its total variation (the sum
    of the jumps between neighbours, the crop's edges included). Both scale exactly
    with a drawing blown up pixel by pixel, so the ratio does not change with size.
    """
    padded = np.pad(digit, 1)
    outline = np.abs(np.diff(padded, axis=0)).sum() + np.abs(np.diff(padded, axis=1)).sum()
    return float(2.0 * digit.sum() / max(outline, 1e-12) / max(digit.shape))


def _restroke(image: np.ndarray) -> np.ndarray:
    """The drawing re-inked to MNIST's median stroke if its strokes are unusually thick
    (a grey erosion) or thin (a grey dilation) for its size; otherwise unchanged.

    A fat marker on a 196-pixel digit took MNIST-trained networks from ~92 % (the usual
    stroke) to ~85 %, a fine pen or a hairline to 78–82 %; re-inked, they read 91.4–91.7 %,
    as well as MNIST's own digits (python -m benchmarks.drawn_digits). Returns the re-inked
    digit cropped, with a blank frame.
    """
    digit = _cropped(image)
    side, ratio = max(digit.shape), stroke_ratio(digit)
    low, high = STROKE_USUAL
    if low <= ratio <= high or side < RESTROKE_FROM:
        return image
    radius = round(abs(STROKE_MEDIAN - ratio) * side / 2)
    if radius == 0:
        return image
    if ratio < low:  # thin: the ink spreads by radius pixels every way, and on
        return _grow_to_median(digit, radius)
    framed = np.pad(digit, radius)  # blank all round: edges to wear from
    thinned = _square_filter(framed, radius, np.minimum)
    if np.count_nonzero(thinned > INK) < max(4, image.size // 2000):
        return image  # a blob rather than strokes: nothing would be left
    return thinned


def _grow_to_median(digit: np.ndarray, radius: int) -> np.ndarray:
    """The thin drawing dilated by ``radius``, then a pixel more at a time until its strokes
    reach MNIST's median ratio (at most ``radius`` more), with a blank frame.

    Why not ``radius`` alone: a grey dilation by r widens a stroke by less than 2r as a
    share of the digit (its ends and grey edges grow too), so the width the ratio asked for
    left eroded-pen drawings at 0.082 (median over 300 test digits), 15 % short, and with
    ~30 % less ink than MNIST's digits; grown on, they read 89.5 % where they read
    88.1 % (python -m benchmarks.drawn_digits, plain). Square dilations add up (by r, then
    by 1, is by r + 1), so each further pixel is one 3×3 pass.
    """
    frame = 2 * radius  # room for the growth to come
    grown = _square_filter(np.pad(digit, frame), radius, np.maximum)
    for _ in range(radius):
        if stroke_ratio(_cropped(grown)) >= STROKE_MEDIAN:
            break
        grown = _square_filter(grown, 1, np.maximum)
    return grown


def _square_filter(image: np.ndarray, radius: int, pick: np.ufunc) -> np.ndarray:
    """The max (dilation) or min (erosion) of each pixel's (2·radius + 1)² square; beyond
    the edges never the extreme picked. Separable, each line in O(log radius) passes of
    whole-array ``pick``s, so a large radius on a large canvas stays cheap."""
    for axis in (0, 1):
        image = _line_filter(image, 2 * radius + 1, radius, pick, axis)
    return image


def _line_filter(
    image: np.ndarray, size: int, radius: int, pick: np.ufunc, axis: int
) -> np.ndarray:
    """``pick`` over windows of ``size`` along ``axis`` centred on each pixel: windows of
    1, 2, 4, … each from two of the one before, then two overlapping ones of the widest."""
    edge = 0.0 if pick is np.maximum else 1.0
    pad = [(0, 0), (0, 0)]
    pad[axis] = (radius, radius)
    line = np.pad(image, pad, constant_values=edge)
    width = 1
    while 2 * width <= size:
        n = line.shape[axis] - width
        line = pick(_take(line, 0, n, axis), _take(line, width, n + width, axis))
        width *= 2
    n = image.shape[axis]
    return pick(_take(line, 0, n, axis), _take(line, size - width, size - width + n, axis))


def _take(array: np.ndarray, start: int, stop: int, axis: int) -> np.ndarray:
    return array[start:stop] if axis == 0 else array[:, start:stop]
