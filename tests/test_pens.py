"""The pens the drawn-digit benchmark simulates (benchmarks/pens.py): a thinned stroke
stays whole, an eroded one breaks; scipy.ndimage counts the pieces and the holes."""

import numpy as np
import pytest
from scipy import ndimage

from benchmarks.pens import eroded, fattened, thinned

SIDE = 280
EIGHT_WAY = np.ones((3, 3), bool)


def ring(outer: float, inner: float) -> np.ndarray:
    """A 0 drawn with a stroke outer − inner wide, centred on the canvas."""
    y, x = np.mgrid[:SIDE, :SIDE] - (SIDE - 1) / 2
    r = np.hypot(y, x)
    return ((inner <= r) & (r <= outer)).astype(np.float64)


def bar_with_a_neck(width: int, neck: int) -> np.ndarray:
    """A horizontal stroke ``width`` wide, only ``neck`` wide over its middle 20 pixels."""
    canvas = np.zeros((SIDE, SIDE))
    mid = SIDE // 2
    canvas[mid - width // 2 : mid - width // 2 + width, 40:240] = 1.0
    canvas[: mid - neck // 2, 130:150] = 0.0
    canvas[mid - neck // 2 + neck :, 130:150] = 0.0
    return canvas


def pieces(canvas: np.ndarray) -> int:
    return ndimage.label(canvas > 0.5, structure=EIGHT_WAY)[1]


def holes(canvas: np.ndarray) -> int:
    """Blank regions (4-connected) other than the one around the drawing."""
    return ndimage.label(canvas <= 0.5)[1] - 1


def width_of_ring(canvas: np.ndarray, mean_radius: float) -> float:
    return float((canvas > 0.5).sum() / (2 * np.pi * mean_radius))


@pytest.mark.parametrize("rounds", [1, 5, 8, 12, 40])
def test_a_thinned_ring_stays_one_closed_ring(rounds):
    thin = thinned(ring(90, 71), rounds)
    assert (pieces(thin), holes(thin)) == (1, 1)


def test_where_a_stroke_is_wide_thinning_takes_what_the_square_erosion_takes():
    """On a 20-px ring, up to 6 rounds are exactly the erosion by a (2·rounds + 1)² square
    (which takes more across a diagonal stroke than across a straight one)."""
    for rounds in (1, 3, 6):
        thin, worn = thinned(ring(90, 70), rounds), eroded(ring(90, 70), rounds)
        assert np.array_equal(thin > 0.5, worn > 0.5)


def test_thinning_wears_a_pixel_a_side_per_round_down_to_one():
    bar = np.zeros((100, 100))
    bar[40:60, 10:90] = 1.0
    across = [int((thinned(bar, rounds) > 0.5)[:, 50].sum()) for rounds in (0, 1, 5, 8, 12)]
    assert across == [20, 18, 10, 4, 1]
    assert width_of_ring(thinned(ring(90, 70), 12), 80) == pytest.approx(1, abs=0.25)


def test_thinning_keeps_a_neck_that_erosion_breaks():
    drawing = bar_with_a_neck(width=19, neck=6)
    assert pieces(drawing) == 1
    assert pieces(eroded(drawing, 5)) == 2  # the neck, 6 px, is gone
    assert pieces(thinned(drawing, 5)) == 1
    assert pieces(thinned(drawing, 40)) == 1


def test_thinning_only_takes_ink_away_and_stops_at_the_skeleton():
    drawing = bar_with_a_neck(width=19, neck=6) + ring(60, 45)
    drawing = np.clip(drawing, 0, 1)
    for rounds in (0, 3, 9):
        assert np.all((thinned(drawing, rounds) > 0.5) <= (drawing > 0.5))
    assert np.array_equal(thinned(drawing, 0) > 0.5, drawing > 0.5)
    assert np.array_equal(thinned(drawing, 30), thinned(drawing, 60))


def test_the_thinned_pen_has_a_soft_edge():
    """Full ink on the stroke, half beside it, a quarter at its corners, nothing further."""
    dot = np.zeros((9, 9))
    dot[4, 3:6] = 1.0
    soft = thinned(dot, 0)
    assert soft[4, 3:6].tolist() == [1.0, 1.0, 1.0]
    assert soft[3, 4] == soft[5, 4] == soft[4, 2] == soft[4, 6] == 0.5
    assert soft[3, 2] == soft[5, 6] == 0.25
    assert soft[2, 4] == soft[4, 1] == 0.0


def test_fattened_and_eroded_are_each_others_mirror():
    """A square pen's dilation and erosion: max and min over the square, checked pixel by
    pixel on a random drawing, the canvas's edge never counting as ink or as blank."""
    rng = np.random.default_rng(0)
    drawing = rng.random((30, 30))
    radius = 2
    fat, thin = fattened(drawing, radius), eroded(drawing, radius)
    for y, x in [(0, 0), (5, 17), (29, 3), (14, 29)]:
        window = drawing[max(y - radius, 0) : y + radius + 1, max(x - radius, 0) : x + radius + 1]
        assert fat[y, x] == window.max()
        assert thin[y, x] == window.min()


def test_every_drawn_style_makes_a_canvas_the_page_would_send(mnist):
    """The benchmark's styles (benchmarks/drawn_digits.py) on a few real test digits: a
    280×280 drawing in [0, 1] that the page's preprocessing takes, the finer pens thinner
    than any MNIST digit's usual stroke (so re-inked), the thinned ones in one piece."""
    from app.mnist.digits import STROKE_USUAL, _cropped, preprocess, stroke_ratio
    from benchmarks.drawn_digits import CANVAS, STYLES

    for digit in mnist.x_test[:5]:
        for name, draw in STYLES.items():
            canvas = draw(digit)
            assert canvas.shape == (CANVAS, CANVAS), name
            assert 0.0 <= canvas.min() and canvas.max() <= 1.0, name
            assert preprocess(canvas).shape == (784,), name
            ratio = stroke_ratio(_cropped(canvas))
            if name in ("drawn_hairline", "drawn_to_the_bone"):
                assert ratio < STROKE_USUAL[0], (name, ratio)
        assert pieces(STYLES["drawn_to_the_bone"](digit)) == pieces(STYLES["drawn_centred"](digit))
