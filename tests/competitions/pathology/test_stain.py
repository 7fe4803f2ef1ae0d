"""H&E stain augmentation in HED colour space (Ruifrok-Johnston deconvolution)."""

import numpy as np
import pytest

from competitions.pathology.augment import TileSampler
from competitions.pathology.stain import hed_to_rgb, rgb_to_hed, stain_perturbed


def test_hed_deconvolution_round_trips_every_colour_exactly():
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3)).astype(np.uint8)
    np.testing.assert_array_equal(hed_to_rgb(rgb_to_hed(image)), image)


def test_a_haematoxylin_blue_pixel_is_mostly_haematoxylin_and_an_eosin_pink_one_mostly_eosin():
    blue, pink = rgb_to_hed(np.array([[[70, 60, 150], [240, 120, 190]]], dtype=np.uint8))[0]
    assert blue.argmax() == 0 and pink.argmax() == 1


def test_stain_jitter_changes_colours_a_little_and_zero_leaves_them_alone():
    image = np.random.default_rng(1).integers(60, 230, (16, 16, 3)).astype(np.uint8)
    rng = np.random.default_rng(2)
    assert stain_perturbed(image, rng, 0.0) is image
    changed = stain_perturbed(image, rng, 0.05).astype(int)
    assert 0 < np.abs(changed - image).mean() < 25
    with pytest.raises(ValueError, match="stain_jitter"):
        stain_perturbed(image, rng, 1.5)


def test_stain_jitter_is_off_by_default_and_reproducible_when_on():
    image = np.random.default_rng(1).integers(60, 230, (40, 40, 3)).astype(np.uint8)
    mask = np.zeros((40, 40), dtype=np.uint8)
    plain = TileSampler([image], [mask], tile=16, seed=3).batch(0, 2)[0]
    jittered = TileSampler([image], [mask], tile=16, seed=3, stain_jitter=0.1).batch(0, 2)[0]
    again = TileSampler([image], [mask], tile=16, seed=3, stain_jitter=0.1).batch(0, 2)[0]
    assert not np.array_equal(plain, jittered) and np.array_equal(jittered, again)
