"""The vote of a spec's fold models over their test readings and, when the test rows' texts are known (generated
mode), every fold model's and the vote's scores on them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comp.fusion import majority_vote


def fold_vote(test_predictions: list[np.ndarray], *, is_valid: Callable[[str], bool], truth: np.ndarray | None,
              scores: dict[str, Callable]) -> tuple[np.ndarray, dict]:
    """(the (n,) vote over valid readings, {} or the validation record: rows, then per score name the list of fold
    scores and ``vote_<name>``)."""
    voted = majority_vote(test_predictions, is_valid=is_valid)
    if truth is None:
        return voted, {}
    validation: dict = {"rows": len(truth)}
    for name, score in scores.items():
        validation[name] = [score(truth, prediction) for prediction in test_predictions]
        validation[f"vote_{name}"] = score(truth, voted)
    return voted, validation
