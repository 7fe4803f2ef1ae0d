"""Reading new images with a finished run of string-reading models: each member's fold models vote, then the
members are fused as the run recorded (a vote too), both counting only the answers a competition calls valid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from comp.fusion import majority_vote, read_final
from comp.io import Run, saved_fold_models


def vote_of_saved_folds(run: Run, read_with_fold: Callable[[Path], np.ndarray],
                        is_valid: Callable[[str], bool]) -> np.ndarray:
    """(n,) answers: ``read_with_fold(directory)`` gives one saved fold model's (n,) readings; the majority of each
    member's folds, then the run's recorded fusion of the members."""
    final = read_final(run)
    answers = {member: majority_vote([read_with_fold(directory)
                                      for directory in saved_fold_models(run, final.scores, member)],
                                     is_valid=is_valid)
               for member in final.members}
    return final.fitted_fusion().apply(answers, is_valid=is_valid)
