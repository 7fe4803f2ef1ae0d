"""The models and fusion results that compete to be a run's final submission."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Candidate:
    """A model or fusion result competing to be the final submission."""

    name: str
    oof: np.ndarray
    test: np.ndarray
    score: float
    fold_scores: list[float]
    details: dict = field(default_factory=dict)
