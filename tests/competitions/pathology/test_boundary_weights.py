"""The U-Net paper's boundary weight map, the weighted cross-entropy that uses it, and the tiles that carry it."""

import numpy as np
import pytest

from competitions.pathology.augment import TileSampler
from competitions.pathology.boundary_weights import boundary_weight_map, class_balance
from competitions.pathology.models import segmentation_loss


def two_touching_discs(gap=2, radius=12, size=(40, 70)):
    """A label image of two discs side by side with ``gap`` background pixels between them; the gap's column."""
    rows, columns = np.mgrid[:size[0], :size[1]]
    labels = np.zeros(size, dtype=np.int32)
    left_centre = 5 + radius
    right_centre = left_centre + 2 * radius + gap + 1
    labels[(rows - 20) ** 2 + (columns - left_centre) ** 2 <= radius ** 2] = 1
    labels[(rows - 20) ** 2 + (columns - right_centre) ** 2 <= radius ** 2] = 2
    return labels, left_centre + radius + 1


def test_the_gap_between_two_touching_discs_weighs_more_than_background_far_from_them():
    labels, gap_column = two_touching_discs()
    weights = boundary_weight_map(labels, w0=10, sigma=5)
    assert labels[20, gap_column] == 0
    far = weights[0, -1]
    assert weights[20, gap_column] > far + 5  # w0 x exp(-(1 + 2)^2 / 50) ~ 8.4 on top of the class weight
    assert far == class_balance(labels > 0)[0, -1]  # far away only the class balance is left
    inside = weights[labels > 0]
    assert np.allclose(inside, inside[0])  # object pixels: class balance only


def test_one_object_or_a_binary_mask_of_one_blob_gets_class_balance_only():
    labels, _ = two_touching_discs()
    one = (labels == 1).astype(np.uint8)
    np.testing.assert_allclose(boundary_weight_map(one), class_balance(one > 0))
    balance = class_balance(one > 0)
    assert balance[one > 0].sum() == pytest.approx(balance[one == 0].sum())  # each class weighs half the image


def test_boundary_crossentropy_punishes_an_error_in_the_gap_more_than_one_far_away():
    loss = segmentation_loss("boundary_crossentropy")
    truth = np.zeros((1, 1, 2), dtype=np.float32)  # two background pixels
    weights = np.array([[[10.0, 1.0]]], dtype=np.float32)  # pixel 0 in a gap, pixel 1 far away
    target = np.stack([truth, weights], axis=-1)  # (1, 1, 2, 2): (mask, weight) per pixel
    wrong_in_gap = np.array([[[[0.1, 0.9], [0.9, 0.1]]]], dtype=np.float32)
    wrong_far_away = np.array([[[[0.9, 0.1], [0.1, 0.9]]]], dtype=np.float32)
    assert float(loss(target, wrong_in_gap)) > float(loss(target, wrong_far_away))


def test_tiles_carry_their_weight_maps_warped_with_the_mask():
    labels, _ = two_touching_discs()
    image = np.where((labels > 0)[..., None], 220, 40).astype(np.uint8).repeat(3, axis=2)
    mask = (labels > 0).astype(np.uint8)
    sampler = TileSampler([image], [mask], tile=24, seed=0, weights=[boundary_weight_map(labels)])
    images, targets = sampler.batch(0, 4)
    assert images.shape == (4, 24, 24, 3) and targets.shape == (4, 24, 24, 2) and targets.dtype == np.float32
    assert set(np.unique(targets[..., 0])) <= {0.0, 1.0} and targets[..., 1].min() > 0
