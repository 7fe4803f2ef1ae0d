"""The ``+threshold`` candidate: each fold's threshold comes from the other folds' pixels only."""

import numpy as np

from comp.fusion import Candidate
from competitions.pathology import PathologyCompetition
from competitions.pathology.scoring import probability_histogram


def histogram_of(probabilities: float, positive: bool, pixels: int = 100) -> np.ndarray:
    """The (2, BINS) histogram of ``pixels`` pixels all predicted ``probabilities``, all positive or all negative."""
    return probability_histogram(np.full(pixels, probabilities), np.full(pixels, positive))


def test_a_folds_threshold_is_fitted_without_its_own_pixels():
    # fold 0: positives at 0.3 (a low threshold finds them); fold 1: positives at 0.8, negatives at 0.3
    oof = np.stack([histogram_of(0.3, True), histogram_of(0.1, False), histogram_of(0.8, True),
                    histogram_of(0.3, False)])
    model = Candidate("net", oof, np.full((1, 2, 2), 0.3, dtype=np.float16), 0.0, [])
    fold_of_row = np.array([0, 0, 1, 1])
    candidate, = PathologyCompetition().fuse([model], np.zeros(4), fold_of_row)
    low, high = candidate.details["fold_thresholds"]
    assert high <= 0.3 < low  # fold 0's threshold comes from fold 1, where 0.3 is negative: fold 0's positives lost
    assert candidate.fold_scores[0] == 0.0
    assert candidate.name == "net+threshold" and 0.05 <= candidate.details["threshold"] <= 0.95
