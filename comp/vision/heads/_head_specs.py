"""Model specs that fit a head (logistic regression or the Keras dense head) on one feature set."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.contract import FitContext, FoldResult, ModelSpec
from comp.tasks import Task
from comp.vision.features import FeatureSet
from comp.vision.heads._heads import DenseHead, LogisticHead

HEADS = {"logistic": LogisticHead, "dense": DenseHead}
# The first trial of a dense head: a small, standardised, early-stopped head (the search moves on from it).
DENSE_START = {"dropout": 0.5, "hidden_units": 0, "l2": 1e-7, "learning_rate": 1e-3, "epochs": 10, "batch_size": 128,
               "patience": 5, "standardize": True}


def default_search_space(head: str, trial) -> dict:
    """Sane ranges for each head: C for logistic regression; dropout, rate, width, L2, epochs for the dense head."""
    if head == "logistic":
        return {"C": trial.suggest_float("C", 1e-4, 10.0, log=True)}
    return {
        "dropout": trial.suggest_float("dropout", 0.0, 0.7),
        "hidden_units": trial.suggest_categorical("hidden_units", [0, 128, 512]),
        "l2": trial.suggest_float("l2", 1e-7, 1e-2, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 1e-4, 1e-2, log=True),
        "epochs": trial.suggest_int("epochs", 5, 60),
        "batch_size": trial.suggest_categorical("batch_size", [32, 64, 128]),
        "patience": 5,
        "standardize": True,
    }


class FeatureHeadSpec(ModelSpec):
    """``<head>@<feature set>``: a head trained on every view of the training rows, predicting the view mean.

    ``labels`` are the task's targets ((n,) classes or values, (n, K) labels); ``task`` None means binary.
    """

    def __init__(self, *, head: str, feature_set: FeatureSet, labels: np.ndarray, name: str | None = None,
                 fixed_params: dict | None = None, clip: tuple[float, float] | None = None,
                 reference: str | None = None, task: Task | None = None):
        if head not in HEADS:
            raise ValueError(f"unknown head {head!r}; known: {', '.join(HEADS)}")
        self.head = head
        self.feature_set = feature_set
        self.labels = np.asarray(labels)
        self.name = name or f"{head}@{feature_set.name}"
        self.fixed_params = fixed_params
        self.tunable = fixed_params is None
        self.clip = clip
        self.reference = reference
        self.task = task or Task("binary")

    def default_params(self) -> dict:
        if self.fixed_params is not None:
            return dict(self.fixed_params)
        if self.head == "logistic":
            return {"C": 1.0}
        return dict(DENSE_START)

    def search_space(self, trial) -> dict:
        return default_search_space(self.head, trial)

    def make_head(self, params: dict, seed: int):
        shape = {"task": self.task.kind, "n_outputs": self.task.n_outputs}
        if self.head == "dense":
            return DenseHead(**params, seed=seed, **shape)
        return LogisticHead(**params, **shape)

    def _predict(self, head, views: list[np.ndarray], rows=None) -> np.ndarray:
        return np.mean([head.predict_proba(view if rows is None else view[rows]) for view in views], axis=0)

    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray,
                 context: FitContext) -> FoldResult:
        views = self.feature_set.train_views
        features = np.vstack([view[train_index] for view in views])
        labels = np.concatenate([self.labels[train_index]] * len(views))
        if self.head == "dense":  # an image's views stay on one side of the early-stopping split (else its flip
            # trains while its orig validates, and early stopping watches a loss that flatters the head)
            head = self.make_head(params, context.seed).fit(features, labels, groups=np.tile(train_index, len(views)))
        else:
            head = self.make_head(params, context.seed).fit(features, labels)
        return FoldResult(
            valid_prediction=self._predict(head, views, valid_index),
            test_prediction=self.predict_test(head),
            model=head,
            history=getattr(head, "history_", {}),
        )

    def predict_test(self, model) -> np.ndarray:
        """P(class 1) of every test row, shape (n_test,): the head's mean over the test views (TTA)."""
        return self._predict(model, self.feature_set.test_views)

    def postprocess(self, prediction: np.ndarray) -> np.ndarray:
        return prediction if self.clip is None else np.clip(prediction, *self.clip)

    def save_model(self, model, directory: Path) -> None:
        model.save(directory)

    def load_model(self, directory: Path):
        return HEADS[self.head].load(directory)

    def describe(self) -> dict:
        return {"head": self.head, "feature_set": self.feature_set.name, "dimension": self.feature_set.dimension,
                "clip": list(self.clip) if self.clip else None}
