"""Drawn-digit preprocessing (MNIST's recipe) and classification of a drawing."""

import functools

import numpy as np
import pytest

from app.mnist.classify import classify
from app.mnist.digits import (
    STROKE_MEDIAN,
    STROKE_USUAL,
    EmptyCanvasError,
    canvas_from_flat,
    preprocess,
    stroke_ratio,
)
from app.mnist.network import Network

# Seven-segment glyphs: a test "handwriting" that can be drawn at any size and place.
CORNERS = {
    "tl": (0, 0),
    "tr": (0.6, 0),
    "ml": (0, 0.5),
    "mr": (0.6, 0.5),
    "bl": (0, 1),
    "br": (0.6, 1),
}
SEGMENTS = {
    "a": ("tl", "tr"),
    "b": ("tr", "mr"),
    "c": ("mr", "br"),
    "d": ("bl", "br"),
    "e": ("ml", "bl"),
    "f": ("tl", "ml"),
    "g": ("ml", "mr"),
}
GLYPHS = ["abcdef", "bc", "abged", "abgcd", "fgbc", "afgcd", "afgedc", "abc", "abcdefg", "abcdfg"]
STROKE = 0.14  # stroke width, as a fraction of the glyph's height


@functools.lru_cache(maxsize=128)
def draw(digit, canvas=(200, 200), top=20.0, left=20.0, height=160.0, samples=3):
    """Render a glyph anti-aliased (``samples``² points per pixel): ink 1, background 0.

    Cached: callers must not change the array.
    """
    image = np.zeros(canvas)
    pad = STROKE * height
    r0, r1 = int(max(top - pad, 0)), int(min(top + height + pad + 1, canvas[0]))
    c0, c1 = int(max(left - pad, 0)), int(min(left + 0.6 * height + pad + 1, canvas[1]))
    offsets = (np.arange(samples) + 0.5) / samples
    ys = ((np.arange(r0, r1)[:, None] + offsets).ravel() - top) / height
    xs = ((np.arange(c0, c1)[:, None] + offsets).ravel() - left) / height
    py, px = np.meshgrid(ys, xs, indexing="ij")
    ink = np.zeros(py.shape, dtype=bool)
    for segment in GLYPHS[digit]:
        (ax, ay), (bx, by) = (CORNERS[k] for k in SEGMENTS[segment])
        t = np.clip(
            ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2),
            0,
            1,
        )
        ink |= np.hypot(px - ax - t * (bx - ax), py - ay - t * (by - ay)) <= STROKE / 2
    blocks = ink.reshape(r1 - r0, samples, c1 - c0, samples).mean(axis=(1, 3))
    image[r0:r1, c0:c1] = blocks
    return image


PLACEMENTS = [  # (canvas, top, left, height): big and centred, small in corners, middling
    ((200, 200), 20.0, 50.0, 160.0),
    ((200, 200), 5.0, 4.0, 48.0),
    ((200, 200), 140.0, 160.0, 51.5),
    ((240, 160), 80.0, 30.0, 107.3),
]
MNIST_SIZED = ((28, 28), 4.0, 8.0, 20.0)  # drawn at MNIST's own resolution: coarser


def template_network():
    """A one-layer softmax 'classifier' whose weights are the glyphs, preprocessed and centred."""
    templates = np.array([preprocess(draw(d)) for d in range(10)], dtype=np.float64)
    templates -= templates.mean(axis=1, keepdims=True)
    templates /= np.linalg.norm(templates, axis=1, keepdims=True)
    net = Network((784, 10), cost="cross_entropy")
    net.set_parameters([20 * templates], [np.zeros(10)])
    return net


def centre_of_mass(image28):
    rows = np.arange(28)
    mass = image28.sum()
    return (image28.sum(axis=1) @ rows / mass, image28.sum(axis=0) @ rows / mass)


@pytest.mark.parametrize("digit", range(10))
def test_the_same_digit_small_big_centred_or_in_a_corner_gives_the_same_input(digit):
    inputs = [preprocess(draw(digit, *placement)) for placement in PLACEMENTS]
    big = inputs[0]
    for other in inputs[1:]:
        # Within 15 % (L2), where the same image moved by one pixel differs by about 55 %.
        assert np.linalg.norm(other - big) < 0.15 * np.linalg.norm(big)
        assert np.abs(other - big).max() < 0.25  # only along the anti-aliased edges
        assert np.linalg.norm(np.roll(big, 1) - big) > 0.4 * np.linalg.norm(big)


def test_every_placement_is_classified_as_the_digit_drawn():
    net = template_network()
    for digit in range(10):
        for canvas, top, left, height in [*PLACEMENTS, MNIST_SIZED]:
            image = draw(digit, canvas, top, left, height)
            result = classify(net, canvas[1], canvas[0], image.ravel().tolist())
            assert result["digit"] == digit, (digit, height, top, left)


def test_an_exactly_magnified_drawing_gives_exactly_the_same_input_anywhere():
    small = draw(2, (40, 40), 9.0, 13.0, 21.7)
    reference = preprocess(small)
    for factor, (top, left) in [(3, (0, 0)), (7, (100, 300)), (10, (600, 10))]:
        canvas = np.zeros((1000, 1000))
        big = np.kron(small, np.ones((factor, factor)))
        canvas[top : top + big.shape[0], left : left + big.shape[1]] = big
        np.testing.assert_allclose(preprocess(canvas), reference, atol=2e-6)


def test_the_output_is_centred_by_mass_and_scaled_to_a_20_pixel_box():
    image = draw(4, (200, 200), 10.0, 50.0, 150.0)
    x = preprocess(image)
    assert x.dtype == np.float32 and x.shape == (784,)
    out = x.reshape(28, 28).astype(np.float64)
    assert 0.0 <= out.min() and out.max() <= 1.0
    # MNIST's digits have their centre of mass at pixel index (14, 14) on average; box
    # filtering moves it by a hundredth of a pixel at most (MNIST's own: up to half one).
    np.testing.assert_allclose(centre_of_mass(out), (14.0, 14.0), atol=0.01)
    rows = np.flatnonzero(out.sum(axis=1) > 0)
    assert rows[-1] - rows[0] + 1 in (20, 21)  # 20 px, plus one partly covered pixel
    # Area averaging keeps the ink: 28×28 mass = drawing's mass / scale².
    ink = image > 0.1
    r = np.flatnonzero(ink.any(axis=1))
    c = np.flatnonzero(ink.any(axis=0))
    scale = max(r[-1] - r[0] + 1, c[-1] - c[0] + 1) / 20
    assert out.sum() == pytest.approx(image.sum() / scale**2, rel=1e-5)


def brute_force(image):
    """The same recipe by point sampling: 32² points per output pixel, no box matrices."""
    ink = image > 0.1
    r = np.flatnonzero(ink.any(axis=1))
    c = np.flatnonzero(ink.any(axis=0))
    digit = image[r[0] : r[-1] + 1, c[0] : c[-1] + 1]
    scale = max(digit.shape) / 20
    mass = digit.sum()
    cy = (digit.sum(axis=1) * (np.arange(digit.shape[0]) + 0.5)).sum() / mass
    cx = (digit.sum(axis=0) * (np.arange(digit.shape[1]) + 0.5)).sum() / mass
    k = 32
    u = (np.arange(28 * k) + 0.5) / k  # output coordinates of the sample points
    ys, xs = cy + (u - 14.5) * scale, cx + (u - 14.5) * scale
    iy, ix = np.floor(ys).astype(int), np.floor(xs).astype(int)
    vy = (iy >= 0) & (iy < digit.shape[0])
    vx = (ix >= 0) & (ix < digit.shape[1])
    values = digit[np.clip(iy, 0, digit.shape[0] - 1)][:, np.clip(ix, 0, digit.shape[1] - 1)]
    values = values * vy[:, None] * vx[None, :]
    return values.reshape(28, k, 28, k).mean(axis=(1, 3))


@pytest.mark.parametrize("digit, placement", [(5, PLACEMENTS[0]), (3, PLACEMENTS[3])])
def test_box_filter_matches_point_sampling(digit, placement):
    image = draw(digit, *placement)
    ours = preprocess(image).reshape(28, 28)
    reference = brute_force(image)
    assert np.abs(ours - reference).max() < 0.04
    assert np.abs(ours - reference).mean() < 0.002


def test_a_lopsided_digit_is_shifted_less_so_no_ink_is_cut_off(monkeypatch):
    monkeypatch.setattr("app.mnist.digits.STROKE_USUAL", (0.0, np.inf))  # never re-inked
    image = np.zeros((100, 100))
    image[10:30, 40:60] = 1.0  # a heavy head: the centre of mass sits near the top
    image[30:90, 49:51] = 1.0  # and a long thin tail
    out = preprocess(image).reshape(28, 28).astype(np.float64)
    scale = 80 / 20
    assert out.sum() == pytest.approx(image.sum() / scale**2, rel=1e-5)  # all ink kept
    assert out[-1].sum() > 0  # the tail reaches the bottom edge
    assert centre_of_mass(out)[0] < 13.0  # moved up to make room for the tail


def test_an_empty_or_almost_empty_canvas_is_a_clear_error():
    with pytest.raises(EmptyCanvasError, match="empty: draw a digit"):
        preprocess(np.zeros((280, 280)))
    with pytest.raises(EmptyCanvasError):
        preprocess(np.full((280, 280), 0.05))  # faint smudge, no ink
    speck = np.zeros((280, 280))
    speck[100:105, 100:106] = 1.0  # 30 pixels: a speck on this canvas
    with pytest.raises(EmptyCanvasError):
        preprocess(speck)
    speck[100:110, 100:106] = 1.0  # 60 pixels: small, but drawn
    assert preprocess(speck).max() > 0.9
    assert issubclass(EmptyCanvasError, ValueError)


@pytest.mark.parametrize(
    "width, height, pixels, message",
    [
        (3, 2, [0.0] * 5, "expected width × height = 6 pixels, got 5"),
        (0, 2, [], "width must lie between 1 and 1000"),
        (1001, 1, [0.0] * 1001, "width must lie between 1 and 1000"),
        (2, 2.5, [0.0] * 5, "height must be a whole number"),
        (True, 1, [0.0], "width must be a whole number"),
        (2, 1, ["a", "b"], "flat list of numbers"),
        (2, 1, [[0.0], [1.0]], "flat list of numbers"),
        (2, 1, [[0.0], [1.0, 2.0]], "flat list of numbers"),
        (2, 1, [None, 1.0], "flat list of numbers"),
    ],
)
def test_bad_canvas_dimensions_are_clear_errors(width, height, pixels, message):
    with pytest.raises(ValueError, match=message):
        canvas_from_flat(width, height, pixels)


@pytest.mark.parametrize(
    "values, message",
    [
        ([0.5, float("nan")], "finite"),
        ([0.5, float("inf")], "finite"),
        ([0.5, 1.5], r"lie in \[0, 1\]"),
        ([-0.1, 0.5], r"lie in \[0, 1\]"),
    ],
)
def test_bad_pixel_values_are_clear_errors(values, message):
    canvas = np.zeros((28, 28))
    canvas.ravel()[: len(values)] = values
    with pytest.raises(ValueError, match=message):
        preprocess(canvas)
    with pytest.raises(ValueError, match="sides 1..1000"):
        preprocess(np.zeros((1001, 3)))


def test_classify_returns_probabilities_input_and_hidden_activations():
    image = draw(7)
    net = Network(cost="cross_entropy", seed=3)
    result = classify(net, 200, 200, image.ravel().tolist())
    assert set(result) == {"digit", "probabilities", "input", "activations"}
    x = preprocess(image)
    assert result["input"] == pytest.approx(x.tolist(), abs=0)
    expected = net.forward(x[None, :])[0].astype(np.float64)
    assert result["probabilities"] == pytest.approx(expected, rel=1e-6)
    assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-12)
    assert result["digit"] == int(np.argmax(expected))
    assert [len(a) for a in result["activations"]] == [16, 16]
    assert result["activations"][1] == pytest.approx(net.activations(x)[1].tolist())


def test_classify_normalises_sigmoid_outputs_to_probabilities():
    net = Network(cost="quadratic", seed=4)
    result = classify(net, 200, 200, draw(3).ravel().tolist())
    output = net.forward(preprocess(draw(3))[None, :])[0].astype(np.float64)
    assert result["probabilities"] == pytest.approx(output / output.sum(), rel=1e-12)
    assert sum(result["probabilities"]) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_classify_refuses_a_network_whose_outputs_are_not_finite():
    net = Network(cost="cross_entropy")
    net.weights[0][:] = np.inf
    with pytest.raises(ValueError, match="not finite"):
        classify(net, 200, 200, draw(1).ravel().tolist())


def test_the_usual_stroke_range_is_mnists_own(mnist):
    """STROKE_USUAL and STROKE_MEDIAN are the 10th, 50th and 90th percentiles of the stored
    digits' stroke ratios (each cropped to its ink), measured again here."""
    from app.mnist.digits import INK

    ratios = []
    for x in mnist.x_train:
        image = x.reshape(28, 28).astype(np.float64)
        rows, cols = np.flatnonzero((image > INK).any(1)), np.flatnonzero((image > INK).any(0))
        ratios.append(stroke_ratio(image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]))
    low, median, high = np.percentile(ratios, [10, 50, 90])
    assert low == pytest.approx(STROKE_USUAL[0], abs=0.005)
    assert median == pytest.approx(STROKE_MEDIAN, abs=0.003)
    assert high == pytest.approx(STROKE_USUAL[1], abs=0.005)


def test_the_stroke_ratio_is_the_width_of_a_bar_over_its_length_and_ignores_size():
    bar = np.zeros((100, 12))
    bar[:, 1:11] = 1.0  # 10 wide, 100 long: 2·1000 / (2·100 + 2·10) / 100
    assert stroke_ratio(bar) == pytest.approx(2 * 1000 / 220 / 100)
    digit = draw(5)
    assert stroke_ratio(np.kron(digit, np.ones((3, 3)))) == pytest.approx(stroke_ratio(digit))


@pytest.mark.parametrize("digit", [0, 3, 4, 8])
def test_a_fine_pen_is_grown_until_its_strokes_reach_mnists_median(digit):
    """Not short of it: one dilation by the width the ratio asks for left fine-pen
    drawings at ~0.082; the growth goes on a pixel at a time until the median, so it
    overshoots by at most one pixel's worth (2 / side)."""
    from app.mnist.digits import INK, _restroke, _square_filter

    glyph = draw(digit, (200, 200), 20.0, 50.0, 160.0)
    fine = _square_filter(glyph, 6, np.minimum)
    rows, cols = np.flatnonzero(fine.any(1)), np.flatnonzero(fine.any(0))
    assert stroke_ratio(fine[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]) < STROKE_USUAL[0]
    grown = _restroke(fine)
    rows, cols = np.flatnonzero((grown > INK).any(1)), np.flatnonzero((grown > INK).any(0))
    crop = grown[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    side = max(crop.shape)
    assert STROKE_MEDIAN <= stroke_ratio(crop) < STROKE_MEDIAN + 2.5 / side


@pytest.mark.parametrize("pen", [-4, 5])
def test_a_fat_or_fine_pen_is_re_inked_to_mnists_stroke(pen, monkeypatch):
    """The same glyph drawn with a far thicker (grown by 2·pen pixels every way) or thinner
    stroke (worn away by as many) comes out much nearer the usual drawing than it does
    without re-inking."""
    from app.mnist.digits import _square_filter

    usual = draw(3, (200, 200), 20.0, 50.0, 160.0)
    pick = np.maximum if pen > 0 else np.minimum
    odd = _square_filter(usual, abs(pen) * 2, pick)
    rows, cols = np.flatnonzero(odd.any(1)), np.flatnonzero(odd.any(0))
    before = stroke_ratio(odd[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    assert not STROKE_USUAL[0] <= before <= STROKE_USUAL[1]  # a case the re-inking is for
    reference, fixed = preprocess(usual), preprocess(odd)
    monkeypatch.setattr("app.mnist.digits.STROKE_USUAL", (0.0, np.inf))  # as it was before
    unfixed = preprocess(odd)
    assert np.linalg.norm(fixed - reference) < 0.6 * np.linalg.norm(unfixed - reference)
