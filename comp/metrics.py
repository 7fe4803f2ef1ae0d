"""Competition scores by name: each declares which way is better and what it scores (probabilities, labels or values).

``get_metric("qwk")`` returns a ``Metric``; a plugin registers its own with ``@register_metric("name")`` on a
factory. Shapes: binary truth (n,) of 0/1 with predictions (n,) of P(class 1); multi-class truth (n,) of class
indices with predictions (n, K) of class probabilities; multi-label truth and predictions (n, K); regression (n,).
Label metrics turn probabilities into labels the standard way (arg-max, or >= 0.5 for binary and multi-label), so a
fitted post-processing (per-label thresholds, cut-points) is expressed by moving the predictions, not the metric.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import metrics as sk

from comp.registry import Registry

KINDS = ("probabilities", "labels", "values")
PROBABILITY_FLOOR = 1e-15  # Kaggle's clip before taking logs


@dataclass(frozen=True)
class Metric:
    """``metric(truth, prediction) -> float``; ``direction`` says which way is better; ``scores`` says what the
    predictions are: "probabilities" (fusion may blend, stack and calibrate them), "labels" or "values"."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    direction: str  # "minimize" or "maximize"
    probabilistic: bool = False
    scores: str = ""

    def __post_init__(self):
        if self.direction not in ("minimize", "maximize"):
            raise ValueError(f"metric direction must be 'minimize' or 'maximize', got {self.direction!r}")
        if not self.scores:
            object.__setattr__(self, "scores", "probabilities" if self.probabilistic else "values")
        if self.scores not in KINDS:
            raise ValueError(f"metric {self.name!r} scores {self.scores!r}; known: {', '.join(KINDS)}")
        object.__setattr__(self, "probabilistic", self.scores == "probabilities")

    def __call__(self, truth: np.ndarray, prediction: np.ndarray) -> float:
        return float(self.function(np.asarray(truth), np.asarray(prediction)))

    def is_better(self, candidate: float, reference: float) -> bool:
        return candidate < reference if self.direction == "minimize" else candidate > reference

    def best(self, scores: dict[str, float]) -> str:
        """Name of the best-scoring entry."""
        chooser = min if self.direction == "minimize" else max
        return chooser(scores, key=scores.__getitem__)

    def by_fold(self, truth: np.ndarray, oof: np.ndarray, fold_of_row: np.ndarray) -> list[float]:
        """The metric on each fold's held-out rows (``fold_of_row``: the fold of every row, shape (n_rows,))."""
        return [self(truth[fold_of_row == fold], oof[fold_of_row == fold]) for fold in range(fold_of_row.max() + 1)]


METRICS = Registry("metric", hint="see comp.metrics.list_metrics()")


def register_metric(name: str):
    """Decorator: register a factory ``(**options) -> Metric`` as ``name``."""
    return METRICS.register(name)


def list_metrics(pattern: str = "*") -> list[str]:
    """Sorted names of the registered metrics matching a shell-style pattern."""
    return METRICS.names(pattern)


def get_metric(name: str, **options) -> Metric:
    """The metric registered as ``name`` (``options`` such as ``beta`` go to its factory)."""
    return METRICS.get(name)(**options)


def predicted_labels(prediction: np.ndarray) -> np.ndarray:
    """Labels from predictions: arg-max of (n, K) class probabilities; 0/1 at 0.5 of (n,) binary probabilities."""
    prediction = np.asarray(prediction)
    if prediction.ndim == 2:
        return prediction.argmax(axis=1)
    if prediction.dtype.kind == "f" and ((prediction >= 0) & (prediction <= 1)).all():
        return (prediction >= 0.5).astype(int)
    return prediction


def label_matrix(prediction: np.ndarray) -> np.ndarray:
    """0/1 matrix (n, K) of multi-label probabilities at 0.5 (a 0/1 matrix stays as it is)."""
    return (np.asarray(prediction, dtype=float) >= 0.5).astype(int)


def rounded_grades(prediction: np.ndarray) -> np.ndarray:
    """Ordinal grades from predictions: arg-max of (n, K) probabilities, or (n,) values rounded to integers."""
    prediction = np.asarray(prediction)
    return prediction.argmax(axis=1) if prediction.ndim == 2 else np.rint(prediction).astype(int)


def binary_log_loss(truth: np.ndarray, probability: np.ndarray) -> float:
    """Log loss of P(class 1) (n,), both classes declared so a one-class fold still scores."""
    return sk.log_loss(truth, np.clip(probability, PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR), labels=[0, 1])


def multiclass_log_loss(truth: np.ndarray, probabilities: np.ndarray) -> float:
    """Kaggle's multi-class log loss: rows of (n, K) clipped at 1e-15 and renormalised; truth (n,) class indices."""
    probabilities = np.clip(np.asarray(probabilities, dtype=float), PROBABILITY_FLOOR, 1 - PROBABILITY_FLOOR)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(probabilities[np.arange(len(truth)), np.asarray(truth, dtype=int)])))


@register_metric("log_loss")
def log_loss_metric() -> Metric:
    return Metric("log_loss", binary_log_loss, "minimize", scores="probabilities")


@register_metric("multi_logloss")
def multi_logloss_metric() -> Metric:
    return Metric("multi_logloss", multiclass_log_loss, "minimize", scores="probabilities")


@register_metric("accuracy")
def accuracy_metric() -> Metric:
    return Metric("accuracy", lambda t, p: sk.accuracy_score(t, predicted_labels(p)), "maximize", scores="labels")


@register_metric("balanced_accuracy")
def balanced_accuracy_metric() -> Metric:
    return Metric("balanced_accuracy", lambda t, p: sk.balanced_accuracy_score(t, predicted_labels(p)), "maximize",
                  scores="labels")


@register_metric("f1_macro")
def f1_macro_metric() -> Metric:
    return Metric("f1_macro", lambda t, p: sk.f1_score(t, predicted_labels(p), average="macro", zero_division=0),
                  "maximize", scores="labels")


@register_metric("f1_micro")
def f1_micro_metric() -> Metric:
    return Metric("f1_micro", lambda t, p: sk.f1_score(t, predicted_labels(p), average="micro", zero_division=0),
                  "maximize", scores="labels")


@register_metric("f1_samples")
def f1_samples_metric() -> Metric:
    return Metric("f1_samples", lambda t, p: sk.f1_score(t, label_matrix(p), average="samples", zero_division=0),
                  "maximize", scores="labels")


@register_metric("fbeta_samples")
def fbeta_samples_metric(beta: float = 2.0) -> Metric:
    """F-beta per sample, averaged (Planet used beta 2: recall weighs more)."""
    return Metric(f"fbeta_samples(beta={beta:g})",
                  lambda t, p: sk.fbeta_score(t, label_matrix(p), beta=beta, average="samples", zero_division=0),
                  "maximize", scores="labels")


@register_metric("roc_auc")
def roc_auc_metric() -> Metric:
    """Area under the ROC curve: binary on P(class 1); macro one-vs-rest on (n, K) class probabilities."""

    def roc_auc(truth, probabilities):
        probabilities = np.asarray(probabilities, dtype=float)
        if probabilities.ndim == 2:
            return sk.roc_auc_score(truth, probabilities, multi_class="ovr", average="macro",
                                    labels=np.arange(probabilities.shape[1]))
        return sk.roc_auc_score(truth, probabilities)

    return Metric("roc_auc", roc_auc, "maximize", scores="probabilities")


@register_metric("qwk")
def quadratic_weighted_kappa_metric() -> Metric:
    """Quadratic weighted kappa of ordinal grades (APTOS): values are rounded, probabilities arg-maxed."""
    return Metric("qwk", lambda t, p: sk.cohen_kappa_score(np.asarray(t, dtype=int), rounded_grades(p),
                                                            weights="quadratic"), "maximize", scores="values")


@register_metric("rmse")
def rmse_metric() -> Metric:
    return Metric("rmse", lambda t, p: float(np.sqrt(np.mean((np.asarray(t, float) - np.asarray(p, float)) ** 2))),
                  "minimize", scores="values")


@register_metric("mae")
def mae_metric() -> Metric:
    return Metric("mae", lambda t, p: float(np.mean(np.abs(np.asarray(t, float) - np.asarray(p, float)))),
                  "minimize", scores="values")
