"""Fusion of segmentation models: per-pixel weighted average of their maps, weights fitted on OOF pixels out of fold."""

import numpy as np
import pytest

from competitions.pathology.map_fusion import fuse_maps, weight_grid


def square_truths(count=6, size=20):
    """Masks with one 8x8 square each."""
    truths = []
    for _ in range(count):
        truth = np.zeros((size, size), dtype=np.uint8)
        truth[6:14, 6:14] = 1
        truths.append(truth)
    return truths


def test_weight_grid_covers_the_simplex_with_equal_weights_first():
    grid = weight_grid(3, 0.5)
    assert grid[0] == pytest.approx((1 / 3, 1 / 3, 1 / 3))
    assert set(grid[1:]) == {(1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0), (0.5, 0.5, 0.0), (0.5, 0.0, 0.5),
                             (0.0, 0.5, 0.5)}
    assert all(sum(weights) == pytest.approx(1) for weights in weight_grid(2, 0.1))


def test_a_folds_fusion_weights_are_fitted_without_its_own_slides():
    truths = square_truths()
    fold_of_row = np.array([0, 0, 0, 1, 1, 1])
    # model A is perfect on fold 0's slides and inverted on fold 1's; model B is a blurred, decent guess everywhere
    model_a = [truth.astype(np.float32) if row < 3 else 1 - truth.astype(np.float32)
               for row, truth in enumerate(truths)]
    model_b = [0.2 + 0.6 * truth.astype(np.float32) for truth in truths]
    fused = fuse_maps([model_a, model_b], [], truths, fold_of_row, step=0.25)
    assert fused.fold_weights[0] == (0.0, 1.0)  # fitted on fold 1, where A is wrong: fold 0 cannot pick its A
    for row in range(3):
        np.testing.assert_allclose(fused.oof[row], model_b[row])
    assert fused.test == []
