"""Joint augmentation keeps image and mask aligned; masks stay exactly 0/1; batches are reproducible."""

import numpy as np

from competitions.pathology.augment import TileSampler, build_augmentation


def marker_slide(size=120, marker=(40, 70)):
    """A dark noisy slide with one bright 5x5 marker and a mask marking exactly that marker."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (size, size, 3), dtype=np.uint8)
    mask = np.zeros((size, size), dtype=np.uint8)
    top, left = marker
    image[top:top + 5, left:left + 5] = 255
    mask[top:top + 5, left:left + 5] = 1
    return image, mask


def test_a_marker_pixel_moves_with_its_mask():
    image, mask = marker_slide()
    augmentation = build_augmentation(48, colour_jitter=0.0)
    seen = 0
    for seed in range(40):
        augmentation.set_random_seed(seed)
        out = augmentation(image=image, mask=mask)
        assert out["image"].shape == (48, 48, 3) and out["mask"].shape == (48, 48)
        assert set(np.unique(out["mask"])) <= {0, 1}  # nearest-neighbour: never a blended mask value
        if out["mask"].sum() < 4:
            continue  # the marker fell outside this tile
        seen += 1
        bright = out["image"].min(axis=2) > 200
        assert bright.any()
        mask_centre = np.argwhere(out["mask"] > 0).mean(axis=0)
        bright_centre = np.argwhere(bright).mean(axis=0)
        assert np.abs(mask_centre - bright_centre).max() < 1.5, (seed, mask_centre, bright_centre)
        assert out["image"][out["mask"] > 0].mean() > 150
    assert seen >= 3


def test_sampler_batches_are_fixed_by_seed_and_index():
    image, mask = marker_slide(size=90)
    sampler = TileSampler([image, image[:70]], [mask, mask[:70]], tile=32, seed=3)
    first_images, first_masks = sampler.batch(5, 4)
    again_images, again_masks = sampler.batch(5, 4)
    assert first_images.shape == (4, 32, 32, 3) and first_masks.shape == (4, 32, 32)
    assert np.array_equal(first_images, again_images) and np.array_equal(first_masks, again_masks)
    assert not np.array_equal(first_images, sampler.batch(6, 4)[0])


def test_colour_jitter_is_off_by_default_and_changes_colours_when_on():
    image, mask = marker_slide()
    plain = build_augmentation(48)
    assert not any(type(step).__name__ == "ColorJitter" for step in plain.transforms)
    jittered = build_augmentation(48, colour_jitter=0.3)
    assert any(type(step).__name__ == "ColorJitter" for step in jittered.transforms)
