"""What a classification competition predicts, and so the shape of every prediction from OOF to submission.

- ``binary``: targets (n,) of 0/1, predictions (n,) of P(class 1);
- ``multiclass``: K classes, targets (n,) of class indices, predictions (n, K) of class probabilities (softmax);
- ``multilabel``: K labels, targets and predictions (n, K) (K independent sigmoids);
- ``regression``: one continuous target, targets and predictions (n,).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from comp.errors import CompError

KINDS = ("binary", "multiclass", "multilabel", "regression")
DEFAULT_METRICS = {"binary": "log_loss", "multiclass": "multi_logloss", "multilabel": "f1_samples",
                   "regression": "rmse"}
STRATIFY_BY = {"binary": "classes", "multiclass": "classes", "multilabel": "labels", "regression": "values"}


@dataclass(frozen=True)
class Task:
    """The task type and its class (or label) names, in the column order of predictions and submissions."""

    kind: str
    classes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise CompError(f"unknown task {self.kind!r}; known: {', '.join(KINDS)}")
        object.__setattr__(self, "classes", tuple(str(name) for name in self.classes))
        if len(set(self.classes)) != len(self.classes):
            raise CompError(f"{self.kind} task has repeated class names: {', '.join(self.classes)}")
        if self.kind == "binary" and len(self.classes) not in (0, 2):
            raise CompError(f"a binary task has 2 classes, not {len(self.classes)}: {', '.join(self.classes)}")
        fewest = {"multiclass": 2, "multilabel": 1}.get(self.kind, 0)
        if len(self.classes) < fewest:
            raise CompError(f"a {self.kind} task needs at least {fewest} class names, got {len(self.classes)}")
        if self.kind == "regression" and self.classes:
            raise CompError("a regression task has no classes")

    @property
    def n_outputs(self) -> int:
        """Columns of a prediction: K for multi-class and multi-label, 1 otherwise (stored as shape (n,))."""
        return len(self.classes) if self.kind in ("multiclass", "multilabel") else 1

    @property
    def stratify_by(self) -> str:
        """How folds are stratified on this task's targets (see ``comp.folds.assign_folds``)."""
        return STRATIFY_BY[self.kind]

    @property
    def default_metric(self) -> str:
        """The metric a competition of this task is usually scored by, when none is named."""
        return DEFAULT_METRICS[self.kind]

    def prediction_shape(self, n_rows: int) -> tuple[int, ...]:
        """Shape of the predictions of ``n_rows`` rows."""
        return (n_rows, self.n_outputs) if self.kind in ("multiclass", "multilabel") else (n_rows,)

    def check_targets(self, targets: np.ndarray, where: str) -> np.ndarray:
        """``targets`` as the task stores them (int indices, 0/1 matrix or floats); a one-line error otherwise."""
        targets = np.asarray(targets)
        if self.kind == "multilabel":
            if targets.ndim != 2 or targets.shape[1] != self.n_outputs or not np.isin(targets, (0, 1)).all():
                raise CompError(f"{where}: multi-label targets must be a 0/1 matrix (n, {self.n_outputs}), "
                                f"got shape {targets.shape}")
            return targets.astype(np.int64)
        if targets.ndim != 1:
            raise CompError(f"{where}: {self.kind} targets must be one value per row, got shape {targets.shape}")
        if self.kind == "regression":
            values = targets.astype(float)
            if not np.isfinite(values).all():
                raise CompError(f"{where}: regression target row {int(np.flatnonzero(~np.isfinite(values))[0])} "
                                f"is not a finite number")
            return values
        n_classes = 2 if self.kind == "binary" else self.n_outputs
        if targets.dtype.kind not in "iub" or targets.min(initial=0) < 0 or targets.max(initial=0) >= n_classes:
            raise CompError(f"{where}: {self.kind} targets must be class indices 0..{n_classes - 1}")
        return targets.astype(np.int64)

    def check_prediction(self, prediction: np.ndarray, n_rows: int, where: str) -> None:
        """A one-line error when a prediction does not have this task's shape or holds non-finite values."""
        prediction = np.asarray(prediction)
        expected = self.prediction_shape(n_rows)
        if prediction.shape != expected:
            raise CompError(f"{where}: prediction of shape {prediction.shape}, the {self.kind} task needs {expected}")
        if not np.isfinite(prediction.astype(float)).all():
            raise CompError(f"{where}: prediction holds NaN or inf")

    def describe(self) -> str:
        """One line for logs and reports, e.g. "multiclass, 6 classes"."""
        if self.kind in ("multiclass", "multilabel"):
            return f"{self.kind}, {self.n_outputs} {'classes' if self.kind == 'multiclass' else 'labels'}"
        return self.kind
