"""Fuse models on their out-of-fold predictions: weighted blend, stacking, clip search. Never uses the test set.

Blend weights and the stacker are fitted on the other folds' OOF rows and applied to the held-out fold, so
the fused OOF score is as honest as each model's; the final weights/stacker are then fitted on all OOF rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import minimize
from sklearn.linear_model import LogisticRegression

from comp.competition import Metric
from comp.folds import fold_indices

LOGIT_MARGIN = 1e-6  # probabilities are kept this far from 0 and 1 before their logit is taken
CLIP_GRID = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05)


@dataclass
class Candidate:
    """A model or fusion result competing to be the final submission."""

    name: str
    oof: np.ndarray
    test: np.ndarray
    score: float
    fold_scores: list[float]
    details: dict = field(default_factory=dict)


def score_by_fold(metric: Metric, labels: np.ndarray, oof: np.ndarray, fold_of_row: np.ndarray) -> list[float]:
    """The metric on each fold's held-out rows."""
    return [metric(labels[fold_of_row == fold], oof[fold_of_row == fold]) for fold in range(fold_of_row.max() + 1)]


def fit_blend_weights(predictions: np.ndarray, labels: np.ndarray, metric: Metric) -> np.ndarray:
    """Non-negative weights summing to one that optimise the metric of ``predictions @ weights``.

    ``predictions`` is (rows, models). Solved with SLSQP from equal weights.
    """
    n_models = predictions.shape[1]
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
    """Weighted blend of the candidates' predictions, scored out-of-fold."""
    oof_matrix = np.column_stack([candidate.oof for candidate in candidates])
    test_matrix = np.column_stack([candidate.test for candidate in candidates])
    fused_oof = np.zeros(len(labels))
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
        fold_scores=score_by_fold(metric, labels, fused_oof, fold_of_row),
        details={"weights": {c.name: round(float(w), 6) for c, w in zip(candidates, weights)}},
    )


def logit(probabilities: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept away from 0 and 1."""
    clipped = np.clip(probabilities, LOGIT_MARGIN, 1 - LOGIT_MARGIN)
    return np.log(clipped / (1 - clipped))


def stack(candidates: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray, metric: Metric,
          *, regularisation: float = 1.0) -> Candidate:
    """Logistic regression on the candidates' OOF logits, with inner folds so its own score is out-of-fold."""
    oof_features = logit(np.column_stack([candidate.oof for candidate in candidates]))
    test_features = logit(np.column_stack([candidate.test for candidate in candidates]))
    fused_oof = np.zeros(len(labels))
    for fold in range(fold_of_row.max() + 1):
        fit_rows, held_out = fold_indices(fold_of_row, fold)
        stacker = LogisticRegression(C=regularisation, max_iter=1000).fit(oof_features[fit_rows], labels[fit_rows])
        fused_oof[held_out] = stacker.predict_proba(oof_features[held_out])[:, 1]
    stacker = LogisticRegression(C=regularisation, max_iter=1000).fit(oof_features, labels)
    return Candidate(
        name="stack",
        oof=fused_oof,
        test=stacker.predict_proba(test_features)[:, 1],
        score=metric(labels, fused_oof),
        fold_scores=score_by_fold(metric, labels, fused_oof, fold_of_row),
        details={"coefficients": {c.name: round(float(w), 6) for c, w in zip(candidates, stacker.coef_[0])},
                 "intercept": float(stacker.intercept_[0])},
    )


def clip(predictions: np.ndarray, margin: float) -> np.ndarray:
    """Clip probabilities into [margin, 1 - margin]."""
    return np.clip(predictions, margin, 1.0 - margin)


def search_clip(oof: np.ndarray, labels: np.ndarray, metric: Metric, grid=CLIP_GRID) -> tuple[float, float]:
    """The clip margin from ``grid`` with the best OOF metric, and that metric."""
    scores = {margin: metric(labels, clip(oof, margin)) for margin in grid}
    best = min(scores, key=scores.get) if metric.direction == "minimize" else max(scores, key=scores.get)
    return best, scores[best]


def clipped(candidate: Candidate, labels: np.ndarray, fold_of_row: np.ndarray, metric: Metric,
            reference_margin: float | None = None) -> Candidate:
    """The candidate clipped at the margin searched on its OOF predictions.

    With ``reference_margin`` (e.g. the seed's fixed 0.005) its score at that margin is reported too.
    """
    margin, _ = search_clip(candidate.oof, labels, metric)
    oof = clip(candidate.oof, margin)
    details = {**candidate.details, "clip": [margin, 1.0 - margin], "unclipped_score": candidate.score}
    if reference_margin is not None:
        details["score_at_reference_clip"] = metric(labels, clip(candidate.oof, reference_margin))
        details["reference_clip"] = [reference_margin, 1.0 - reference_margin]
    return Candidate(
        name=f"{candidate.name}+clip",
        oof=oof,
        test=clip(candidate.test, margin),
        score=metric(labels, oof),
        fold_scores=score_by_fold(metric, labels, oof, fold_of_row),
        details=details,
    )
