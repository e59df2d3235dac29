"""Training-time augmentation: each epoch sees every digit slightly moved, turned and re-inked.

Why: MNIST's digits were all drawn with one kind of pen, then scaled to a 20×20
box and centred (app.mnist.digits does the same to a drawing, and re-inks a pen far
thicker or thinner than MNIST's to its median stroke). What the preprocessing
cannot undo is the person: a slanted hand, strokes a little thicker or thinner
than usual, a digit not quite where its centre of mass says. A network that has
only ever seen MNIST's pen misreads some of those; one that saw each digit a little
shifted, rotated, scaled and thickened or thinned every epoch reads more of them
(``python -m benchmarks.drawn_digits`` measures both).

Everything is vectorised over the digits, in chunks (bounded memory), in NumPy:
- the stroke width: a blend towards the 3×3 grey dilation (thicker) or the
  plus-shaped grey erosion, once or twice (thinner), by a random amount per digit;
- one affine map per digit — rotation about the image centre, scale, shift —
  sampled backwards with bilinear interpolation (zero outside the image).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Augmentation", "augment_digits", "thicken", "transform"]

SIDE = 28
CHUNK = 2048  # digits per vectorised pass: ~25 MB of temporaries


@dataclass(frozen=True)
class Augmentation:
    """How far each random change may go (uniform in ±range; ``thickness`` in [thin, thick])."""

    max_shift: float = 1.0  # pixels
    max_rotation: float = 10.0  # degrees
    max_scale: float = 0.05  # relative: 0.05 is ×0.95 … ×1.05
    thinnest: float = -1.5  # towards the erosion (−1) and its erosion (−2): a finer pen
    thickest: float = 1.0  # blend towards the dilation


def augment_digits(
    images: np.ndarray, rng: np.random.Generator, how: Augmentation = Augmentation()
) -> np.ndarray:
    """A new float32 array of the (N, 784) digits, each changed at random within ``how``."""
    images = np.asarray(images, dtype=np.float32)
    n = len(images)
    out = np.empty((n, SIDE * SIDE), np.float32)
    for start in range(0, n, CHUNK):
        part = images[start : start + CHUNK].reshape(-1, SIDE, SIDE)
        m = len(part)
        inked = thicken(part, rng.uniform(how.thinnest, how.thickest, m))
        angle = np.deg2rad(rng.uniform(-how.max_rotation, how.max_rotation, m))
        scale = 1.0 + rng.uniform(-how.max_scale, how.max_scale, m)
        shift = rng.uniform(-how.max_shift, how.max_shift, (m, 2))
        moved = transform(inked, angle, scale, shift[:, 0], shift[:, 1])
        out[start : start + m] = moved.reshape(m, -1)
    return out


def thicken(images: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """(N, 28, 28) digits re-inked per digit: thicker for amount > 0 (up to the 3×3 grey
    dilation at 1), thinner for amount < 0 (the plus-shaped grey erosion at −1, that
    erosion's erosion at −2), blending linearly in between."""
    amount = np.asarray(amount, np.float32)[:, None, None]
    dilated, eroded = _dilate_and_erode(images)
    thicker = images + amount * (dilated - images)
    thinner = images - amount * (eroded - images)
    result = np.where(amount >= 0, thicker, thinner)
    if (amount < -1).any():
        eroded_twice = _dilate_and_erode(eroded)[1]
        thinnest = eroded + (-amount - 1) * (eroded_twice - eroded)
        result = np.where(amount < -1, thinnest, result)
    return result


def _dilate_and_erode(images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 3×3 grey dilation and the plus-shaped grey erosion of (N, 28, 28) images
    (zero outside), each as maxima and minima of shifted slices: no stacked copies."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    rows = np.maximum(padded[:, :, :-2], padded[:, :, 1:-1])
    np.maximum(rows, padded[:, :, 2:], out=rows)  # (N, 30, 28): each row's 3-wide maxima
    dilated = np.maximum(rows[:, :-2], rows[:, 1:-1])
    np.maximum(dilated, rows[:, 2:], out=dilated)
    eroded = np.minimum(images, padded[:, :-2, 1:-1])  # up
    for neighbour in (padded[:, 2:, 1:-1], padded[:, 1:-1, :-2], padded[:, 1:-1, 2:]):
        np.minimum(eroded, neighbour, out=eroded)  # down, left, right
    return dilated, eroded


def transform(
    images: np.ndarray,
    angle: np.ndarray,
    scale: np.ndarray,
    shift_x: np.ndarray,
    shift_y: np.ndarray,
) -> np.ndarray:
    """(N, 28, 28) digits each rotated by ``angle`` (radians, counter-clockwise as seen on the
    screen, y pointing down), scaled about the centre and shifted (pixels; +x right, +y down).

    Backward mapping: each output pixel reads the source at the inverse map of its
    position, interpolated bilinearly, zero outside — the standard way to resample
    without holes.
    """
    n = len(images)
    centre = (SIDE - 1) / 2
    grid = np.arange(SIDE, dtype=np.float32) - centre
    y_out = grid[None, :, None] - np.asarray(shift_y, np.float32)[:, None, None]
    x_out = grid[None, None, :] - np.asarray(shift_x, np.float32)[:, None, None]
    cos = (np.cos(angle) / scale).astype(np.float32)[:, None, None]
    sin = (np.sin(angle) / scale).astype(np.float32)[:, None, None]
    # the inverse of a counter-clockwise turn on screen (y down) turns the other way
    x_src = cos * x_out - sin * y_out + centre
    y_src = sin * x_out + cos * y_out + centre
    return _bilinear(images, x_src, y_src).reshape(n, SIDE, SIDE)


def _bilinear(images: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """images sampled at (y, x) per digit, bilinear, zero outside (one ring of zero padding).

    In float32 throughout, gathering from one flat array (np.take on a 1-D array is
    several times faster than take_along_axis on a 2-D one)."""
    n = len(images)
    width = SIDE + 2
    flat = np.pad(images, ((0, 0), (1, 1), (1, 1))).astype(np.float32).ravel()
    x = np.clip(x, -1.0, SIDE).astype(np.float32) + np.float32(1)  # beyond the ring: zeros
    y = np.clip(y, -1.0, SIDE).astype(np.float32) + np.float32(1)
    x0 = np.minimum(x.astype(np.intp), width - 2)  # x ≥ 0 here: truncation is the floor
    y0 = np.minimum(y.astype(np.intp), width - 2)
    fx = x - x0.astype(np.float32)
    fy = y - y0.astype(np.float32)
    base = y0 * width + x0 + (np.arange(n) * width * width)[:, None, None]
    top = np.take(flat, base)
    top += fx * (np.take(flat, base + 1) - top)
    bottom = np.take(flat, base + width)
    bottom += fx * (np.take(flat, base + width + 1) - bottom)
    top += fy * (bottom - top)
    return np.clip(top, 0.0, 1.0, out=top)
