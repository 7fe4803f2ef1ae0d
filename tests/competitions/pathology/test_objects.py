"""GlaS object F1, object Dice and object Hausdorff against a hand-computed example, and what counts as an object."""

import numpy as np
import pytest
from scipy import ndimage

from competitions.pathology.objects import (
    detection_counts,
    hausdorff_distance,
    nearest_hausdorff,
    object_boxes,
    object_dice,
    object_f1,
    object_hausdorff,
    object_labels,
)


def boxes(shape, *corners) -> np.ndarray:
    """Boolean mask of ``shape`` with the boxes (top, left, bottom, right), inclusive, set."""
    mask = np.zeros(shape, dtype=bool)
    for top, left, bottom, right in corners:
        mask[top:bottom + 1, left:right + 1] = True
    return mask


SHAPE = (10, 12)
# G1 and G2: two 4x4 glands
TRUTH = boxes(SHAPE, (0, 0, 3, 3), (6, 6, 9, 9))
# S1 (12 px) covers 75% of G1; S2 (8 px) covers 25% of G2; S3 (4 px) overlaps nothing
PREDICTED = boxes(SHAPE, (0, 0, 3, 2), (6, 9, 9, 10), (0, 10, 1, 11))


def test_object_f1_of_a_hand_computed_example():
    # S1 is a true positive; S2 (25% of its gland) and S3 (no gland) are false positives; G2 is missed
    assert detection_counts(TRUTH, PREDICTED) == (1, 2, 1)
    assert object_f1([TRUTH], [PREDICTED]) == pytest.approx(2 / (2 + 2 + 1))


def test_object_f1_pools_the_counts_of_all_images():
    # image 1: TP 1, FP 2, FN 1; image 2: TP 1 -> 2TP / (2TP + FP + FN) = 4 / (4 + 2 + 1)
    assert object_f1([TRUTH, TRUTH[:4, :4]], [PREDICTED, TRUTH[:4, :4]]) == pytest.approx(4 / 7)


def test_a_prediction_covering_exactly_half_a_gland_is_a_false_positive():
    half = boxes(SHAPE, (0, 0, 3, 1))  # 8 of G1's 16 pixels: not more than half
    assert detection_counts(TRUTH, half) == (0, 1, 2)


def test_object_dice_of_a_hand_computed_example():
    # truth side (areas 16, 16): G1-S1 Dice 2*12/28 = 6/7, G2-S2 Dice 2*4/24 = 1/3 -> (6/7 + 1/3) / 2 = 25/42
    # predicted side (areas 12, 8, 4 of 24): (12 * 6/7 + 8 * 1/3 + 4 * 0) / 24 = 34/63
    assert object_dice([TRUTH], [PREDICTED]) == pytest.approx((25 / 42 + 34 / 63) / 2)


def test_object_hausdorff_of_a_hand_computed_example():
    # G1-S1: 1 (G1's last column is 1 from S1); G2-S2: 3 (G2's first column to S2's); truth side (16*1 + 16*3)/32 = 2
    # S3 overlaps no gland: its nearest gland by Hausdorff is G2 at sqrt(8^2 + 4^2) = sqrt(80) (G1: sqrt(104))
    # predicted side: (12 * 1 + 8 * 3 + 4 * sqrt(80)) / 24
    predicted_side = (12 * 1 + 8 * 3 + 4 * np.sqrt(80)) / 24
    assert object_hausdorff([TRUTH], [PREDICTED]) == pytest.approx((2 + predicted_side) / 2)


def test_hausdorff_distance_is_the_farthest_pixel_of_either_set_from_the_other():
    first, second = boxes(SHAPE, (0, 0, 3, 3)), boxes(SHAPE, (0, 0, 3, 2))
    assert hausdorff_distance(first, second) == pytest.approx(1.0)
    assert hausdorff_distance(first, boxes(SHAPE, (9, 11, 9, 11))) == pytest.approx(np.hypot(9, 11))
    with pytest.raises(ValueError, match="non-empty"):
        hausdorff_distance(first, np.zeros(SHAPE, dtype=bool))


def test_a_perfect_prediction_scores_one_and_zero_distance_and_empty_sides_are_handled():
    assert object_f1([TRUTH], [TRUTH]) == 1.0
    assert object_dice([TRUTH], [TRUTH]) == 1.0
    assert object_hausdorff([TRUTH], [TRUTH]) == 0.0
    empty = np.zeros(SHAPE, dtype=bool)
    assert object_dice([empty], [empty]) == 1.0 and object_hausdorff([empty], [empty]) == 0.0
    # nothing predicted: every gland's Dice is 0 and its distance the image diagonal
    assert object_dice([TRUTH], [empty]) == 0.0
    assert object_hausdorff([TRUTH], [empty]) == pytest.approx(np.hypot(*SHAPE))


def test_label_images_keep_touching_glands_apart_and_binary_pngs_are_components():
    labels = np.zeros(SHAPE, dtype=np.uint8)
    labels[0:4, 0:4], labels[0:4, 4:8] = 1, 2  # two glands that touch
    assert object_labels(labels)[1] == 2
    assert object_labels(labels > 0)[1] == 1
    assert object_labels((TRUTH * 255).astype(np.uint8))[1] == 2  # a 0/255 mask: its components
    diagonal = np.eye(3, dtype=bool)
    assert object_labels(diagonal)[1] == 1  # 8-connected
    with pytest.raises(ValueError, match="boolean or integer"):
        object_labels(TRUTH.astype(float))


def test_sets_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="2 truth images but 1 predictions"):
        object_f1([TRUTH, TRUTH], [TRUTH])


def test_the_pruned_search_for_the_nearest_object_agrees_with_trying_every_object():
    rng = np.random.default_rng(0)
    for _ in range(5):
        specks = rng.random((40, 50)) > 0.97
        gland = np.zeros((40, 50), dtype=bool)
        gland[5:15, 30:45] = True
        labels, count = ndimage.label(specks & ~gland, structure=np.ones((3, 3)))
        every = min(hausdorff_distance(gland, labels == label) for label in range(1, count + 1))
        gland_labels = gland.astype(np.int32)
        pruned = nearest_hausdorff(gland_labels, 1, object_boxes(gland_labels, 1)[0], labels,
                                   object_boxes(labels, count))
        assert pruned == pytest.approx(every)
