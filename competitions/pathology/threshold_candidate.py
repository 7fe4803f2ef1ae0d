"""The ``<model>+threshold`` candidate: the decision threshold fitted on OOF pixels out of fold, like every other
fitted choice of a run (``comp.fusion``'s rule), so its OOF score can be compared with the other candidates'.

Each fold's held-out histograms are stretched at the threshold that is best on the other folds' pixels (so that
threshold lands on 0.5, ``scoring.remap_histograms``); the test maps at the threshold fitted on all OOF pixels.
"""

from __future__ import annotations

import numpy as np

from comp.folds import fold_indices
from comp.fusion import Candidate
from comp.metrics import Metric
from competitions.pathology.scoring import best_threshold, remap_histograms, remap_probabilities

THRESHOLD_SUFFIX = "+threshold"  # a model with its decision threshold fitted on OOF pixels


def threshold_candidate(model: Candidate, labels: np.ndarray, fold_of_row: np.ndarray, metric: Metric) -> Candidate:
    """``model`` (OOF: (n, 2, BINS) histograms; test: (n_test, H, W) maps) with its threshold fitted out of fold; the
    details keep the all-rows threshold (applied to the test maps and by ``comp predict``), each fold's, and the
    model's score at 0.5."""
    oof = np.zeros_like(model.oof)
    fold_thresholds = []
    for fold in range(int(fold_of_row.max()) + 1):
        fit_rows, held_out = fold_indices(fold_of_row, fold)
        threshold, _ = best_threshold(model.oof[fit_rows])
        oof[held_out] = remap_histograms(model.oof[held_out], threshold)
        fold_thresholds.append(threshold)
    threshold, _ = best_threshold(model.oof)
    return Candidate(model.name + THRESHOLD_SUFFIX, oof, remap_probabilities(model.test, threshold),
                     metric(labels, oof), metric.by_fold(labels, oof, fold_of_row),
                     {"threshold": threshold, "fold_thresholds": fold_thresholds, "score_at_0.5": model.score})
