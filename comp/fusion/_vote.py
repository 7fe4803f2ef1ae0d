"""Majority vote over label outputs (decoded strings, class names): the fusion of models that do not give probabilities."""

from __future__ import annotations

from collections import Counter
from typing import Callable

import numpy as np


def majority_vote(predictions: list[np.ndarray], *, is_valid: Callable[[str], bool] = bool) -> np.ndarray:
    """Per row, the answer most models gave among the valid ones (``is_valid``); "" when none is left.

    ``predictions``: one array of shape (n_rows,) per model. A tie goes to the answer of the earliest model in
    ``predictions`` among the tied ones (pass the best first).
    """
    if not predictions:
        raise ValueError("majority_vote needs the predictions of at least one model")
    columns = [np.asarray(prediction, dtype=str) for prediction in predictions]
    if len({len(column) for column in columns}) != 1:
        raise ValueError(f"models predicted different numbers of images: {[len(column) for column in columns]}")
    voted = np.empty(len(columns[0]), dtype=object)
    for row, answers in enumerate(zip(*columns)):
        valid = [answer for answer in answers if is_valid(answer)]
        if not valid:
            voted[row] = ""
            continue
        counts = Counter(valid)
        top = max(counts.values())
        voted[row] = str(next(answer for answer in valid if counts[answer] == top))
    return voted
