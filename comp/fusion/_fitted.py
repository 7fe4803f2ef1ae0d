"""A fusion as training fitted it on OOF (and scores.json records it), re-applied to its members' predictions of new
rows: ``comp predict``, exports and plugins' own prediction paths share this one re-application."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import expit, softmax

from comp.fusion._postprocessing import STEPS
from comp.fusion._stack import LOGIT_MARGIN, logit
from comp.fusion._vote import majority_vote

KINDS = ("model", "blend", "stack", "vote")


@dataclass(frozen=True)
class FittedFusion:
    """How a candidate combines its members' predictions, with the values fitted in training.

    ``kind``: "model" (its one member as it is), "blend" (``weights`` summing to one), "stack" (the task's linear
    stacker: ``weights`` per member, ``intercept``; see ``comp.fusion._stack``) or "vote" (per row the majority of the
    members' answers, ties to the earliest member). ``task``: the stack's task kind ("binary" for runs recorded
    before tasks). ``postprocessing``: the name of a ``comp.fusion.STEPS`` step applied last with ``params``.
    """

    kind: str
    members: tuple[str, ...]
    weights: dict = field(default_factory=dict)
    intercept: float | list = 0.0
    task: str = "binary"
    classes: tuple[int, ...] = ()
    postprocessing: str | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown fusion kind {self.kind!r}; known: {', '.join(KINDS)}")
        missing = [name for name in self.members if self.kind in ("blend", "stack") and name not in self.weights]
        if missing:
            raise ValueError(f"the {self.kind} has no weight for its member {missing[0]!r}")
        if self.postprocessing is not None and self.postprocessing not in STEPS:
            raise ValueError(f"unknown post-processing {self.postprocessing!r}; known: {', '.join(STEPS)}")

    def stacked(self, columns: list[np.ndarray]) -> np.ndarray:
        """The stacker's prediction from the members' predictions, in the arithmetic of its fit."""
        if self.task == "multiclass":
            features = np.hstack([np.log(np.clip(column, LOGIT_MARGIN, 1.0)) for column in columns])
            kernel = np.hstack([np.asarray(self.weights[name], dtype=float) for name in self.members])  # (K', K*M)
            scores = softmax(features @ kernel.T + np.asarray(self.intercept, dtype=float), axis=1)
            full = np.zeros((len(features), columns[0].shape[1]))
            full[:, list(self.classes) or list(range(scores.shape[1]))] = scores
            return full
        if self.task == "multilabel":
            weights = np.array([self.weights[name] for name in self.members], dtype=float)  # (members, labels)
            logits = np.stack([logit(column) for column in columns], axis=-1)  # (n, labels, members)
            return expit(np.einsum("nlm,ml->nl", logits, weights) + np.asarray(self.intercept, dtype=float))
        matrix = np.column_stack(columns)
        weights = np.array([self.weights[name] for name in self.members], dtype=float)
        if self.task == "regression":
            return matrix @ weights + float(self.intercept)
        logits = logit(matrix)  # as LogisticRegression predicts: in the dtype of its features (float32 stays float32)
        return expit(logits @ weights.astype(logits.dtype) + logits.dtype.type(self.intercept))

    def apply(self, predictions: dict[str, np.ndarray], *, is_valid: Callable[[str], bool] = bool) -> np.ndarray:
        """The fused prediction, shape (n_rows,) or (n_rows, K), from each member's (``predictions[name]``) in the
        same arithmetic as the fit; a vote counts only the answers ``is_valid`` accepts, as in training."""
        missing = [name for name in self.members if name not in predictions]
        if missing:
            raise ValueError(f"no prediction of the fused member {missing[0]!r}")
        columns = [np.asarray(predictions[name]) for name in self.members]
        if self.kind == "model":
            fused = columns[0]
        elif self.kind == "vote":
            fused = majority_vote(columns, is_valid=is_valid)
        elif self.kind == "blend":  # as fitted: the members stacked on a last axis times the float64 weights
            weights = np.array([self.weights[name] for name in self.members], dtype=float)
            fused = np.stack([column.astype(float) for column in columns], axis=-1) @ weights
        else:
            fused = self.stacked(columns)
        if self.postprocessing is None:
            return fused
        return STEPS[self.postprocessing].apply(np.asarray(fused, dtype=float), self.params)  # float64, as fitted
