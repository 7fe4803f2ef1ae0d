"""Weighted blend of models' OOF predictions: weights fitted on the other folds, scored on the held-out one."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

from comp.folds import fold_indices
from comp.fusion._candidate import Candidate
from comp.metrics import Metric


def fit_blend_weights(predictions: np.ndarray, labels: np.ndarray, metric: Metric) -> np.ndarray:
    """Non-negative weights summing to one that optimise the metric of ``predictions @ weights``.

    ``predictions`` is (rows, models), or (rows, K, models) for K columns per model: one weight per model across
    its columns. Solved with SLSQP from equal weights.
    """
    n_models = predictions.shape[-1]
    sign = 1.0 if metric.direction == "minimize" else -1.0

    def loss(weights: np.ndarray) -> float:
        return sign * metric(labels, predictions @ weights)

    result = minimize(
        loss,
        np.full(n_models, 1.0 / n_models),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n_models,
        constraints=({"type": "eq", "fun": lambda weights: np.sum(weights) - 1.0},),
    )
    weights = np.clip(result.x, 0.0, None)
    return weights / weights.sum()


def blend(candidates: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray, metric: Metric) -> Candidate:
    """Weighted blend of the candidates' predictions ((n,) or (n, K) each), scored out-of-fold."""
    oof_matrix = np.stack([np.asarray(candidate.oof, dtype=float) for candidate in candidates], axis=-1)
    test_matrix = np.stack([np.asarray(candidate.test, dtype=float) for candidate in candidates], axis=-1)
    fused_oof = np.zeros(oof_matrix.shape[:-1])
    for fold in range(fold_of_row.max() + 1):
        fit_rows, held_out = fold_indices(fold_of_row, fold)
        weights = fit_blend_weights(oof_matrix[fit_rows], labels[fit_rows], metric)
        fused_oof[held_out] = oof_matrix[held_out] @ weights
    weights = fit_blend_weights(oof_matrix, labels, metric)
    return Candidate(
        name="blend",
        oof=fused_oof,
        test=test_matrix @ weights,
        score=metric(labels, fused_oof),
        fold_scores=metric.by_fold(labels, fused_oof, fold_of_row),
        details={"weights": {c.name: float(w) for c, w in zip(candidates, weights)}},  # unrounded: FittedFusion re-applies
    )
