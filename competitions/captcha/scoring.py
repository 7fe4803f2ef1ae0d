"""Scores of decoded expressions (whole-sequence and value accuracy) and the seed's majority vote over models."""

from __future__ import annotations

from collections import Counter

import numpy as np

from competitions.captcha.expressions import value_or_none


def sequence_accuracy(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Share of images whose whole expression is read exactly."""
    truth, prediction = np.asarray(truth, dtype=str), np.asarray(prediction, dtype=str)
    return float(np.mean(truth == prediction)) if len(truth) else 0.0


def value_accuracy(truth: np.ndarray, prediction: np.ndarray) -> float:
    """Share of images whose decoded expression evaluates to the labelled value; unparseable ones are wrong."""
    if not len(truth):
        return 0.0
    hits = [(predicted := value_or_none(str(guess))) is not None and predicted == value_or_none(str(label))
            for label, guess in zip(truth, prediction)]
    return float(np.mean(hits))


def majority_vote(predictions: list[np.ndarray]) -> np.ndarray:
    """Per image, the expression most models read, ignoring empty and unparseable ones; "" when none is left.

    A tie goes to the answer of the earliest model in ``predictions`` among the tied ones (pass the best first).
    """
    if not predictions:
        raise ValueError("majority_vote needs the predictions of at least one model")
    columns = [np.asarray(prediction, dtype=str) for prediction in predictions]
    if len({len(column) for column in columns}) != 1:
        raise ValueError(f"models predicted different numbers of images: {[len(column) for column in columns]}")
    voted = np.empty(len(columns[0]), dtype=object)
    for row, answers in enumerate(zip(*columns)):
        valid = [answer for answer in answers if value_or_none(answer) is not None]
        if not valid:
            voted[row] = ""
            continue
        counts = Counter(valid)
        top = max(counts.values())
        voted[row] = str(next(answer for answer in valid if counts[answer] == top))
    return voted
