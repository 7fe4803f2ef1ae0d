"""Scores of read formulas: sequence accuracy (the official metric) and value accuracy (reported beside it).

Both take the formulas part of labels (the text before the space); ``split_label`` in formulas.py gives it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from competitions.captcha_final.formulas import FormulaError, exact_value

VALUE_TOLERANCE = Fraction(1, 100)  # the organisers counted a value within 0.01 as right


def sequence_accuracy(truth, prediction) -> float:
    """Share of images whose whole formulas text is read exactly (0.0 for no images)."""
    truth, prediction = np.asarray(truth, dtype=str), np.asarray(prediction, dtype=str)
    if truth.shape != prediction.shape:
        raise ValueError(f"{len(truth)} true formulas but {len(prediction)} predictions")
    return float(np.mean(truth == prediction)) if len(truth) else 0.0


def value_or_none(formulas: str) -> Fraction | None:
    """The exact value of ``formulas``, or None when they are not grammatical (an unreadable prediction)."""
    try:
        return exact_value(str(formulas))
    except FormulaError:
        return None


def value_accuracy(truth, prediction) -> float:
    """Share of images whose predicted formulas are grammatical and worth the true ones' value within 0.01.

    Values are exact fractions, so products beyond a float's precision still compare right. A true label that is not
    grammatical (a bad labels line) is matched by nothing: counted as wrong.
    """
    truth, prediction = list(truth), list(prediction)
    if len(truth) != len(prediction):
        raise ValueError(f"{len(truth)} true formulas but {len(prediction)} predictions")
    if not truth:
        return 0.0
    hits = 0
    for label, guess in zip(truth, prediction):
        expected, predicted = value_or_none(label), value_or_none(guess)
        hits += expected is not None and predicted is not None and abs(predicted - expected) <= VALUE_TOLERANCE
    return hits / len(truth)
