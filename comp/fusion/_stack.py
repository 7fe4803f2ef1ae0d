"""Stacking: a linear model on the models' OOF predictions, fitted with inner folds so its own score is out-of-fold.

By task: binary, a logistic regression on the models' logits; multiclass, a multinomial logistic regression on their
log-probabilities (K columns per model); multilabel, one logistic regression per label on that label's logits;
regression, a ridge regression on the values.
"""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import LogisticRegression, Ridge

from comp.folds import fold_indices
from comp.fusion._candidate import Candidate
from comp.metrics import Metric
from comp.tasks import Task

LOGIT_MARGIN = 1e-6  # probabilities are kept this far from 0 and 1 before their logit (or log) is taken
BINARY = Task("binary")


def logit(probabilities: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), with p kept away from 0 and 1."""
    clipped = np.clip(probabilities, LOGIT_MARGIN, 1 - LOGIT_MARGIN)
    return np.log(clipped / (1 - clipped))


def stack_features(predictions: list[np.ndarray], task: Task) -> np.ndarray:
    """The stacker's inputs: per model its logits (binary; multilabel as (n, K, models)), log-probabilities
    (multiclass, K columns each) or values (regression)."""
    if task.kind == "multiclass":
        return np.hstack([np.log(np.clip(prediction, LOGIT_MARGIN, 1.0)) for prediction in predictions])
    if task.kind == "multilabel":
        return logit(np.stack(predictions, axis=-1))
    columns = np.column_stack(predictions)
    return columns if task.kind == "regression" else logit(columns)


class Stacker:
    """The task's linear stacker, scikit-learn style: ``fit(features, truth)`` returns self, ``predict`` gives the
    fused prediction in the task's shape."""

    def __init__(self, *, task: Task, regularisation: float = 1.0):
        self.task = task
        self.regularisation = regularisation

    def _model(self):
        if self.task.kind == "regression":
            return Ridge(alpha=self.regularisation)
        return LogisticRegression(C=self.regularisation, max_iter=1000)

    def fit(self, features: np.ndarray, truth: np.ndarray) -> "Stacker":
        if self.task.kind == "multilabel":
            self.models_ = [self._model().fit(features[:, label], truth[:, label])
                            for label in range(truth.shape[1])]
        else:
            self.models_ = [self._model().fit(features, truth)]
        return self

    def predict(self, features: np.ndarray) -> np.ndarray:
        if self.task.kind == "regression":
            return self.models_[0].predict(features)
        if self.task.kind == "multilabel":
            return np.column_stack([model.predict_proba(features[:, label])[:, 1]
                                    for label, model in enumerate(self.models_)])
        probabilities = self.models_[0].predict_proba(features)
        if self.task.kind == "binary":
            return probabilities[:, 1]
        full = np.zeros((len(features), self.task.n_outputs))
        full[:, self.models_[0].classes_.astype(int)] = probabilities
        return full

    def coefficients(self, names: list[str]) -> dict:
        """The fitted values for scores.json: per model its weight (binary, regression), its (K, K) block of the
        multinomial weights (multiclass) or its weight per label (multilabel), and the intercepts."""
        if self.task.kind == "multilabel":
            weights = np.array([model.coef_[0] for model in self.models_])  # (labels, models)
            return {"coefficients": {name: weights[:, index].tolist() for index, name in enumerate(names)},
                    "intercept": [float(model.intercept_[0]) for model in self.models_]}
        model = self.models_[0]
        if self.task.kind == "multiclass":
            width = self.task.n_outputs
            return {"coefficients": {name: model.coef_[:, index * width:(index + 1) * width].tolist()
                                     for index, name in enumerate(names)},
                    "intercept": model.intercept_.tolist(), "classes": model.classes_.tolist()}
        coefficients = np.atleast_2d(model.coef_)[0]
        return {"coefficients": {name: float(weight) for name, weight in zip(names, coefficients)},
                "intercept": float(np.atleast_1d(model.intercept_)[0])}


def stack(candidates: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray, metric: Metric,
          *, task: Task = BINARY, regularisation: float = 1.0) -> Candidate:
    """The task's stacker on the candidates' OOF predictions, with inner folds so its own score is out-of-fold."""
    oof_features = stack_features([candidate.oof for candidate in candidates], task)
    test_features = stack_features([candidate.test for candidate in candidates], task)
    fused_oof = np.zeros(task.prediction_shape(len(labels)))
    for fold in range(fold_of_row.max() + 1):
        fit_rows, held_out = fold_indices(fold_of_row, fold)
        stacker = Stacker(task=task, regularisation=regularisation).fit(oof_features[fit_rows], labels[fit_rows])
        fused_oof[held_out] = stacker.predict(oof_features[held_out])
    stacker = Stacker(task=task, regularisation=regularisation).fit(oof_features, labels)
    return Candidate(
        name="stack",
        oof=fused_oof,
        test=stacker.predict(test_features),
        score=metric(labels, fused_oof),
        fold_scores=metric.by_fold(labels, fused_oof, fold_of_row),
        # unrounded, so comp predict's re-application (FittedFusion) gives the same predictions
        details={**stacker.coefficients([candidate.name for candidate in candidates]), "task": task.kind},
    )
