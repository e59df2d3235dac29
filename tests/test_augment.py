"""Augmentation: the affine resampling against exact references, the ink blend, the Trainer."""

import numpy as np
import pytest

from app.mnist.augment import Augmentation, augment_digits, thicken, transform
from app.mnist.engine import numba_available
from app.mnist.training import TrainConfig, Trainer
from tests.test_training import synthetic


def digits(n=5, seed=0):
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 28, 28), np.float32)
    images[:, 4:24, 4:24] = rng.random((n, 20, 20), dtype=np.float32)  # ink away from the edge
    return images


def same(images, **changes):
    n = len(images)
    args = {
        "angle": np.zeros(n),
        "scale": np.ones(n),
        "shift_x": np.zeros(n),
        "shift_y": np.zeros(n),
    }
    return transform(images, **{**args, **changes})


def test_the_identity_map_returns_every_pixel():
    images = digits()
    np.testing.assert_allclose(same(images), images, atol=1e-6)


def test_a_whole_pixel_shift_moves_the_image_right_and_down():
    images = digits()
    moved = same(images, shift_x=np.full(5, 2.0), shift_y=np.full(5, 1.0))
    expected = np.zeros_like(images)
    expected[:, 1:, 2:] = images[:, :-1, :-2]
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_a_half_pixel_shift_averages_neighbours():
    images = digits()
    moved = same(images, shift_x=np.full(5, 0.5))
    expected = images.copy()
    expected[:, :, 1:] = (images[:, :, 1:] + images[:, :, :-1]) / 2
    expected[:, :, 0] = images[:, :, 0] / 2
    np.testing.assert_allclose(moved, expected, atol=1e-6)


def test_a_quarter_turn_is_numpys_counter_clockwise_rot90():
    images = digits()
    turned = same(images, angle=np.full(5, np.pi / 2))
    np.testing.assert_allclose(turned, np.rot90(images, axes=(1, 2)), atol=1e-5)


def test_scaling_up_doubles_the_distance_from_the_centre():
    image = np.zeros((1, 28, 28), np.float32)
    image[0, 13, 17] = 1.0  # 3.5 px right of the centre (13.5), 0.5 above it
    grown = same(image, scale=np.array([2.0]))
    y, x = np.unravel_index(np.argmax(grown[0]), (28, 28))
    assert (x, y) in {(20, 12), (20, 13)}  # 13.5 + 7 = 20.5: the pixels either side carry it
    assert grown[0].sum() == pytest.approx(4.0, rel=0.05)  # the area grows four times


def test_thickening_and_thinning_move_the_ink_the_right_way_within_0_1():
    images = digits()
    images[images < 0.5] = 0  # strokes with holes between them
    thick = thicken(images, np.ones(5))
    thin = thicken(images, -np.ones(5))
    unchanged = thicken(images, np.zeros(5))
    np.testing.assert_array_equal(unchanged, images)
    assert (thick >= images).all() and (thin <= images).all()
    assert thick.sum() > images.sum() > thin.sum()
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    assert thick[0, 10, 10] == padded[0, 10:13, 10:13].max()  # the 3×3 dilation at amount 1
    plus = [padded[0, 11, 11], padded[0, 10, 11], padded[0, 12, 11], padded[0, 11, 10]]
    assert thin[0, 10, 10] == min(*plus, padded[0, 11, 12])  # the plus-shaped erosion at −1
    thinner = thicken(images, np.full(5, -2.0))
    np.testing.assert_array_equal(thinner, thicken(thin, -np.ones(5)))  # at −2: eroded twice
    halfway = thicken(images, np.full(5, -1.5))
    np.testing.assert_allclose(halfway, (thin + thinner) / 2, atol=1e-6)
    assert thinner.sum() < thin.sum()


def test_augmented_digits_stay_digits_reproducibly():
    data = synthetic(300, 10)
    x = data.x_train
    a = augment_digits(x, np.random.default_rng(1))
    b = augment_digits(x, np.random.default_rng(1))
    c = augment_digits(x, np.random.default_rng(2))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert a.shape == x.shape and a.dtype == np.float32
    assert 0.0 <= a.min() and a.max() <= 1.0
    moved = np.abs(a - x).mean(axis=1)
    assert (moved > 0).all()  # every digit changed
    # small changes: an augmented digit is still far closer to itself than to another one
    assert np.abs(a - x).mean() < np.abs(x[1:] - x[:-1]).mean()


def test_no_change_at_all_when_every_range_is_zero():
    x = synthetic(50, 10).x_train
    none = Augmentation(max_shift=0, max_rotation=0, max_scale=0, thinnest=0, thickest=0)
    np.testing.assert_allclose(augment_digits(x, np.random.default_rng(0), none), x, atol=1e-6)


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("batch", [20, 300])  # less and more than AUGMENT_AHEAD's 256
def test_a_trainer_with_augment_trains_on_new_digits_every_epoch(engine, batch):
    if engine == "numba" and not numba_available():
        pytest.skip("Numba is not installed (the [fast] extra)")
    data = synthetic(700, 50)
    config = TrainConfig(batch_size=batch, epochs=3, lr=1.0, augment=True)
    trainer = Trainer(config, data, engine=engine)
    seen = []
    for _ in range(3):
        trainer.run(trainer.steps_per_epoch)
        seen.append(trainer._x_epoch.copy())
    assert not np.array_equal(seen[0], seen[1]) and not np.array_equal(seen[1], seen[2])
    for epoch in seen:  # every digit of every epoch was changed before a batch read it
        assert (np.abs(epoch - data.x_train).sum(axis=1) > 0).all()
    np.testing.assert_array_equal(trainer.x_train, data.x_train)  # the stored digits unchanged
    again = Trainer(config, data, engine=engine)
    again.run(trainer.steps_per_epoch * 3)
    np.testing.assert_array_equal(again.network.flat, trainer.network.flat)  # seeded
    plain = Trainer(TrainConfig(batch_size=batch, epochs=3, lr=1.0), data, engine=engine)
    plain.run(plain.total_steps)
    assert not np.array_equal(plain.network.flat, trainer.network.flat)


def test_augment_must_be_a_boolean():
    with pytest.raises(ValueError, match="augment must be true or false"):
        TrainConfig(augment="yes").validate()
