"""Batch transforms: values checked by hand on small arrays, and reproducible randomness."""

import numpy as np
import pytest

from datasets import transforms


def distinct_images(count: int, channels: int = 2, size: int = 3) -> np.ndarray:
    """Images whose pixels all differ, so a crop's content reveals where it was cut."""
    shape = (count, channels, size, size)
    return np.arange(1, np.prod(shape) + 1, dtype=np.float32).reshape(shape)


def test_normalize_per_channel_by_hand():
    images = np.array([[[[0.0, 1.0]], [[0.5, 0.25]]]], dtype=np.float32)  # (1, 2, 1, 2)
    result = transforms.normalize(images, mean=(0.5, 0.25), std=(0.5, 0.25))
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, [[[[-1.0, 1.0]], [[1.0, 0.0]]]])


def test_normalize_of_uint8_returns_float32():
    images = np.full((1, 1, 2, 2), 3, dtype=np.uint8)
    result = transforms.normalize(images, (1.0,), (2.0,))
    assert result.dtype == np.float32
    np.testing.assert_array_equal(result, np.ones((1, 1, 2, 2)))


def test_normalize_rejects_a_channel_count_mismatch():
    with pytest.raises(ValueError, match="3 channels but mean has 1 values and std has 1"):
        transforms.normalize(np.zeros((1, 3, 2, 2), np.float32), (0.5,), (0.5,))


def test_random_crop_by_hand_for_a_known_offset():
    image = np.array([[[[1, 2], [3, 4]]]], dtype=np.float32)  # (1, 1, 2, 2)

    class FixedOffsets:
        def integers(self, low, high, size):
            return np.full(size, 2)  # bottom-right window of the padded image

    cropped = transforms.random_crop(image, 1, FixedOffsets())
    np.testing.assert_array_equal(cropped, [[[[4, 0], [0, 0]]]])


def test_random_crop_takes_one_window_of_the_zero_padded_image_per_sample():
    images = distinct_images(200)
    padding = 1
    cropped = transforms.random_crop(images, padding, np.random.default_rng(0))
    assert cropped.shape == images.shape and cropped.dtype == images.dtype
    padded = np.pad(images, ((0, 0), (0, 0), (1, 1), (1, 1)))
    offsets = set()
    for index in range(len(images)):
        matches = [
            (top, left)
            for top in range(2 * padding + 1)
            for left in range(2 * padding + 1)
            if np.array_equal(cropped[index], padded[index, :, top : top + 3, left : left + 3])
        ]
        assert len(matches) == 1  # every channel cut at the same offset
        offsets.update(matches)
    assert len(offsets) == 9  # every offset is reachable


def test_random_crop_with_zero_padding_is_the_identity():
    images = distinct_images(4)
    np.testing.assert_array_equal(
        transforms.random_crop(images, 0, np.random.default_rng(1)), images
    )


def test_random_hflip_with_p_one_mirrors_every_image_and_p_zero_none():
    images = distinct_images(3)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(transforms.random_hflip(images, rng, p=1.0), images[..., ::-1])
    np.testing.assert_array_equal(transforms.random_hflip(images, rng, p=0.0), images)


def test_random_hflip_mirrors_each_image_whole_or_not_at_all():
    images = distinct_images(100)
    flipped = transforms.random_hflip(images, np.random.default_rng(3))
    mirrored = np.array([np.array_equal(f, i[..., ::-1]) for f, i in zip(flipped, images)])
    kept = np.array([np.array_equal(f, i) for f, i in zip(flipped, images)])
    assert np.all(mirrored ^ kept)
    assert 20 < mirrored.sum() < 80


def test_transforms_leave_their_input_unchanged():
    images = distinct_images(8)
    original = images.copy()
    transforms.cifar_augment(images, np.random.default_rng(0))
    np.testing.assert_array_equal(images, original)


def test_cifar_augment_is_reproducible_with_a_seeded_generator():
    images = np.random.default_rng(5).random((16, 3, 32, 32), dtype=np.float32)
    first = transforms.cifar_augment(images, np.random.default_rng(42))
    second = transforms.cifar_augment(images, np.random.default_rng(42))
    other = transforms.cifar_augment(images, np.random.default_rng(43))
    assert first.shape == images.shape and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
