"""Leak-free pseudo-labels for the second round: fold k's network also trains on the test images labelled by fold
k's first-round network, which never saw fold k's held-out rows, so the held-out score of round 2 stays out of fold
(labels from a model fitted on all rows would carry the held-out rows' labels into their own fold through the test
images). Only test images the round-1 network is confident about are kept, at a confidence threshold chosen on the
OOF predictions of the other folds' rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comp.errors import CompError
from comp.io import Run, saved_fold_models

MINIMUM_KEPT = 0.05  # the threshold keeps at least this share of the OOF rows, so a round always has labels


def confidence(prediction: np.ndarray, task: str) -> np.ndarray:
    """How sure a prediction is, per row (n,) in [0, 1]: |2p - 1| (binary), the top class probability (multi-class),
    the least sure label's |2p - 1| (multi-label); 1 for regression values (every row is kept)."""
    prediction = np.asarray(prediction, dtype=np.float64)
    if task == "binary":
        return np.abs(2 * prediction - 1)
    if task == "multiclass":
        return prediction.max(axis=1)
    if task == "multilabel":
        return np.abs(2 * prediction - 1).min(axis=1)
    return np.ones(len(prediction))


def hard_targets(prediction: np.ndarray, task: str) -> np.ndarray:
    """Training targets from predictions: 0/1 (binary, multi-label), class indices (multi-class) or the values."""
    prediction = np.asarray(prediction)
    if task == "multiclass":
        return np.argmax(prediction, axis=1)
    if task in ("binary", "multilabel"):
        return (prediction >= 0.5).astype(np.float32)
    return prediction.astype(np.float32)


def confidence_threshold(oof: np.ndarray, truth: np.ndarray, task: str, accuracy: float) -> float:
    """The lowest confidence whose OOF rows at or above it have their hard labels right at rate ``accuracy`` (all
    labels of a row for multi-label) while keeping at least ``MINIMUM_KEPT`` of the rows; 0 for regression."""
    if task == "regression":
        return 0.0
    sure = confidence(oof, task)
    right = hard_targets(oof, task) == truth
    right = right.all(axis=1) if right.ndim == 2 else right
    order = np.argsort(-sure, kind="stable")
    running = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    minimum = max(1, int(np.ceil(MINIMUM_KEPT * len(order))))
    good = np.flatnonzero(running >= accuracy)
    good = good[good >= minimum - 1]
    kept = good[-1] if len(good) else minimum - 1
    return float(sure[order][kept])


@dataclass
class PseudoLabels:
    """Where round 2 finds its labels: the finished round-1 model ``round1`` of ``run`` (its fold models' test
    predictions and its OOF predictions), the truth of the training rows and their folds, the task and the accuracy
    asked of the kept pseudo-labels."""
    run: Run
    round1: str
    truth: np.ndarray
    task: str
    accuracy: float

    def round1_params(self) -> dict:
        """The parameters round 1 was refitted with (round 2 uses the same)."""
        models = self.run.read_json("scores.json", default={}).get("models", {})
        if self.round1 not in models:
            raise CompError(f"pseudo-labels need the finished first-round model {self.round1!r}, not in "
                            f"{self.run.file('scores.json')}")
        return dict(models[self.round1]["params"])

    def fold_test_prediction(self, fold: int) -> np.ndarray:
        """Fold ``fold``'s round-1 prediction of the test rows, (n_test,) or (n_test, K), as its fold runner saved
        it beside its fold model."""
        scores = self.run.read_json("scores.json")
        return np.load(saved_fold_models(self.run, scores, self.round1)[fold].parent / "test.npy")

    def for_fold(self, fold: int) -> tuple[np.ndarray, np.ndarray, float]:
        """(test rows kept, their targets, the threshold) for fold ``fold``: labelled by fold ``fold``'s round-1
        network, thresholded on the OOF rows of the other folds."""
        fold_of_row = np.asarray(self.run.read_json("folds.json")["fold"])
        oof, _ = self.run.load_predictions(self.round1)
        others = fold_of_row != fold
        threshold = confidence_threshold(oof[others], self.truth[others], self.task, self.accuracy)
        prediction = self.fold_test_prediction(fold)
        kept = np.flatnonzero(confidence(prediction, self.task) >= threshold)
        return kept, hard_targets(prediction[kept], self.task), threshold
