"""Pixel F1 against a hand-computed example, histogram scoring, the threshold search and mask-folder scoring."""

import cv2
import numpy as np
import pytest

from comp.errors import CompError
from competitions.pathology.scoring import (
    BINS,
    best_threshold,
    f1_by_threshold,
    pixel_f1,
    pixel_f1_of_mask_sets,
    pixel_f1_of_masks,
    probability_histogram,
    remap_histograms,
    remap_probabilities,
    score_mask_folders,
)

TRUTH = np.array([[1, 1, 0, 0],
                  [0, 1, 0, 0]])
PREDICTED = np.array([[1, 0, 0, 1],
                      [1, 1, 0, 0]])


def test_pixel_f1_of_a_hand_computed_example():
    # TP = 2 (0,0),(1,1); FP = 2 (0,3),(1,0); FN = 1 (0,1): F1 = 2*2 / (2*2 + 2 + 1) = 4/7
    assert pixel_f1_of_masks(TRUTH, PREDICTED) == pytest.approx(4 / 7)
    assert pixel_f1_of_masks(np.zeros((2, 2)), np.zeros((2, 2))) == 1.0


def test_pixel_f1_of_a_set_of_masks_counts_all_pixels_of_images_of_any_size():
    # image 1: TP 2, FP 2, FN 1; image 2 (3x3, all found): TP 9 -> 2*11 / (2*11 + 2 + 1)
    assert pixel_f1_of_mask_sets([TRUTH, np.ones((3, 3))], [PREDICTED, np.ones((3, 3))]) == pytest.approx(22 / 25)
    with pytest.raises(ValueError, match="1 truth images but 2 predictions"):
        pixel_f1_of_mask_sets([TRUTH], [PREDICTED, PREDICTED])


def test_histograms_over_several_images_give_the_f1_of_all_their_pixels():
    probabilities = np.where(PREDICTED > 0, 0.8, 0.2)
    second_truth, second_probabilities = np.ones((3, 3)), np.full((3, 3), 0.7)
    histograms = np.stack([probability_histogram(probabilities, TRUTH),
                           probability_histogram(second_probabilities, second_truth)])
    assert histograms.shape == (2, 2, BINS) and histograms.sum() == 8 + 9
    # all pixels: TP = 2 + 9, FP = 2, FN = 1
    assert pixel_f1(np.zeros(2), histograms) == pytest.approx(22 / 25)
    assert pixel_f1(np.zeros(2), histograms, threshold=0.75) == pytest.approx(4 / (4 + 2 + 10))  # the 0.7 image is missed


def test_best_threshold_and_remapping_keep_the_f1_at_that_threshold():
    rng = np.random.default_rng(0)
    truth = rng.random((60, 60)) < 0.4
    probabilities = np.clip(truth * 0.35 + rng.random((60, 60)) * 0.6, 0, 1).astype(np.float32)
    histograms = probability_histogram(probabilities, truth)[None]
    threshold, score = best_threshold(histograms)
    assert score == pytest.approx(f1_by_threshold(histograms).max())
    assert score == pytest.approx(pixel_f1_of_masks(truth, probabilities >= threshold))
    remapped = remap_probabilities(probabilities, threshold)
    assert pixel_f1_of_masks(truth, remapped >= 0.5) == pytest.approx(score)
    assert pixel_f1(np.zeros(1), remap_histograms(histograms, threshold)) == pytest.approx(score)


def test_mask_folders_are_scored_over_all_pixels(tmp_path):
    (tmp_path / "truth").mkdir()
    (tmp_path / "predicted").mkdir()
    cv2.imwrite(str(tmp_path / "truth" / "a.png"), (TRUTH * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "predicted" / "a.png"), (PREDICTED * 255).astype(np.uint8))
    scores = score_mask_folders(tmp_path / "predicted", tmp_path / "truth")
    assert scores["pixel_f1"] == pytest.approx(4 / 7) and scores["images"] == 1
    assert scores["precision"] == pytest.approx(0.5) and scores["recall"] == pytest.approx(2 / 3)
    assert scores["all_positive_f1"] == pytest.approx(2 * 3 / (2 * 3 + 5))
    cv2.imwrite(str(tmp_path / "truth" / "b.png"), np.zeros((2, 2), np.uint8))
    with pytest.raises(CompError, match="no predicted mask"):
        score_mask_folders(tmp_path / "predicted", tmp_path / "truth")


def test_command_line_prints_the_scores_as_json(tmp_path, capsys):
    from competitions.pathology.__main__ import main

    (tmp_path / "truth").mkdir()
    (tmp_path / "predicted").mkdir()
    cv2.imwrite(str(tmp_path / "truth" / "a.png"), (TRUTH * 255).astype(np.uint8))
    cv2.imwrite(str(tmp_path / "predicted" / "a.png"), (PREDICTED * 255).astype(np.uint8))
    assert main([str(tmp_path / "predicted"), str(tmp_path / "truth")]) == 0
    assert '"pixel_f1": 0.5714' in capsys.readouterr().out
    assert main([str(tmp_path / "absent"), str(tmp_path / "truth")]) == 2
