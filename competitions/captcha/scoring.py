"""Scores of decoded expressions (whole-sequence and value accuracy) and which answers a vote counts."""

from __future__ import annotations

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


def parseable(answer: str) -> bool:
    """Whether a decoded answer is an expression with a value: the answers a majority vote counts."""
    return value_or_none(str(answer)) is not None
