"""A fusion as training fitted it on OOF (and scores.json records it), re-applied to its members' predictions of new
rows: ``comp predict``, exports and plugins' own prediction paths share this one re-application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import expit

from comp.fusion._calibration import clip
from comp.fusion._stack import logit
from comp.fusion._vote import majority_vote

KINDS = ("model", "blend", "stack", "vote")


@dataclass(frozen=True)
class FittedFusion:
    """How a candidate combines its members' predictions, with the values fitted in training.

    ``kind``: "model" (its one member as it is), "blend" (``weights`` summing to one), "stack" (sigmoid of
    ``weights`` on the members' logits plus ``intercept``) or "vote" (per row the majority of the members' answers,
    ties to the earliest member). ``clip``: the margin of the clip into [clip, 1 - clip] applied last; None for none.
    """

    kind: str
    members: tuple[str, ...]
    weights: dict[str, float] = field(default_factory=dict)
    intercept: float = 0.0
    clip: float | None = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fusion kind {self.kind!r}; known: {', '.join(KINDS)}")
        missing = [name for name in self.members if self.kind in ("blend", "stack") and name not in self.weights]
        if missing:
            raise ValueError(f"the {self.kind} has no weight for its member {missing[0]!r}")

    def apply(self, predictions: dict[str, np.ndarray], *, is_valid: Callable[[str], bool] = bool) -> np.ndarray:
        """The fused prediction, shape (n_rows,), from each member's (``predictions[name]``, shape (n_rows,)) in the
        same arithmetic as the fit; a vote counts only the answers ``is_valid`` accepts, as in training."""
        missing = [name for name in self.members if name not in predictions]
        if missing:
            raise ValueError(f"no prediction of the fused member {missing[0]!r}")
        columns = [np.asarray(predictions[name]) for name in self.members]
        if self.kind == "model":
            fused = columns[0]
        elif self.kind == "vote":
            fused = majority_vote(columns, is_valid=is_valid)
        else:
            matrix = np.column_stack(columns)
            weights = np.array([self.weights[name] for name in self.members], dtype=float)
            if self.kind == "blend":  # as fitted: the members' matrix times the float64 weights
                fused = matrix @ weights
            else:  # as LogisticRegression predicts: in the dtype of its features (float32 members stay float32)
                logits = logit(matrix)
                fused = expit(logits @ weights.astype(logits.dtype) + logits.dtype.type(self.intercept))
        return fused if self.clip is None else clip(fused, self.clip)
