"""Stacking: a logistic regression on the models' OOF logits, fitted with inner folds so its score is out-of-fold."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression

from comp.folds import fold_indices
from comp.fusion._candidate import Candidate
from comp.metrics import Metric

LOGIT_MARGIN = 1e-6  # probabilities are kept this far from 0 and 1 before their logit is taken


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
        fold_scores=metric.by_fold(labels, fused_oof, fold_of_row),
        # unrounded, so comp predict's re-application (FittedFusion) gives the same probabilities
        details={"coefficients": {c.name: float(w) for c, w in zip(candidates, stacker.coef_[0])},
                 "intercept": float(stacker.intercept_[0])},
    )
