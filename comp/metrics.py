"""A competition's score: the function, which way is better, and whether it scores probabilities."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Metric:
    """``metric(truth, prediction) -> float``; ``direction`` says which way is better."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    direction: str  # "minimize" or "maximize"
    probabilistic: bool = False

    def __post_init__(self):
        if self.direction not in ("minimize", "maximize"):
            raise ValueError(f"metric direction must be 'minimize' or 'maximize', got {self.direction!r}")

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
