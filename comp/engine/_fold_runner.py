"""Fit a model spec on every fold: out-of-fold predictions, fold-averaged test predictions, per-fold cache.

Each finished fold is stored under the run, keyed by the spec and its parameters, so a resumed run (or the
refit of the best trial) skips every fold that is already done.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from comp.contract import FitContext, FoldResult, ModelSpec
from comp.errors import CompError
from comp.folds import fold_indices
from comp.io import progress_bar, write_array, write_json
from comp.metrics import Metric

logger = logging.getLogger("comp.kfold")


def params_key(params: dict) -> str:
    """Short stable hash of a parameter dict (the name of its fold-cache folder)."""
    return hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:16]


def fold_seed(seed: int, fold: int) -> int:
    """The seed fold ``fold`` of a run seeded ``seed`` fits with (``FitContext.seed``), so a tool can redraw what
    that fit drew."""
    return seed * 1000 + fold


def check_fold_result(result: FoldResult, name: str, fold: int, *, n_valid: int, n_test: int | None) -> None:
    """A CompError naming the model and fold when ``fit_fold`` returned predictions of the wrong kind: not a
    FoldResult, a row count other than the held-out (or test) rows, or numbers that are not finite."""
    where = f"{name} fold {fold}"
    if not isinstance(result, FoldResult):
        raise CompError(f"{where}: fit_fold returned {type(result).__name__}, not a FoldResult")
    for part, expected in (("valid_prediction", n_valid), ("test_prediction", n_test)):
        prediction = np.asarray(getattr(result, part))
        if prediction.ndim == 0 or (expected is not None and prediction.shape[0] != expected):
            raise CompError(f"{where}: {part} has shape {prediction.shape}, expected {expected} rows first")
        if prediction.dtype.kind not in "biufUSO":
            raise CompError(f"{where}: {part} has dtype {prediction.dtype}; predictions are numbers or strings")
        if prediction.dtype.kind in "fc" and not np.isfinite(prediction).all():
            bad = int(np.flatnonzero(~np.isfinite(prediction).reshape(len(prediction), -1).all(axis=1))[0])
            raise CompError(f"{where}: {part} row {bad} is not finite (NaN or inf); the fold is not saved")


@dataclass
class CrossValidation:
    """The k-fold result of one (spec, params): OOF and test predictions and the score of each fold."""

    oof: np.ndarray
    test: np.ndarray
    fold_scores: list[float]
    score: float
    histories: list[dict] = field(default_factory=list)


class FoldRunner:
    """Runs a spec's folds in order with a per-fold cache in ``cache_root``."""

    def __init__(self, *, fold_of_row: np.ndarray, labels: np.ndarray, metric: Metric, cache_root: Path, seed: int,
                 n_test: int | None = None):
        self.fold_of_row = fold_of_row
        self.n_test = n_test
        self.labels = labels
        self.metric = metric
        self.cache_root = Path(cache_root)
        self.seed = seed
        self.n_folds = int(fold_of_row.max()) + 1

    def fold_dir(self, spec: ModelSpec, params: dict, fold: int) -> Path:
        return self.cache_root / spec.name / params_key(params) / f"fold{fold}"

    def fit_fold(self, spec: ModelSpec, params: dict, fold: int, *,
                 epoch_reporter: Callable[[int, float], bool] | None = None) -> FoldResult:
        """One fold's predictions, from the cache when present; a fresh fit is checked before it is saved."""
        directory = self.fold_dir(spec, params, fold)
        if (directory / "done.json").exists():
            history = json.loads((directory / "done.json").read_text())["history"]
            return FoldResult(np.load(directory / "valid.npy"),
                              np.load(directory / "test.npy"), None, history)
        train_index, valid_index = fold_indices(self.fold_of_row, fold)
        context = FitContext(seed=fold_seed(self.seed, fold), fold=fold, epoch_reporter=epoch_reporter)
        result = spec.fit_fold(params, train_index, valid_index, context)
        check_fold_result(result, spec.name, fold, n_valid=len(valid_index), n_test=self.n_test)
        write_array(directory / "valid.npy", result.valid_prediction)
        write_array(directory / "test.npy", result.test_prediction)
        if result.model is not None:
            spec.save_model(result.model, directory / "model")
        write_json(directory / "done.json", {"params": params, "fold": fold, "history": result.history})
        return result

    def cross_validate(
        self, spec: ModelSpec, params: dict, *, after_fold: Callable[[int, float], None] | None = None,
        epoch_reporter: Callable[[int, float], bool] | None = None,
    ) -> CrossValidation:
        """Fit every fold; ``after_fold(fold, running_score)`` may raise to stop early (Optuna pruning), and
        ``epoch_reporter`` reaches each fold's ``FitContext`` for per-epoch pruning."""
        oof = None
        test_predictions = []
        fold_scores = []
        histories = []
        seen = np.zeros(len(self.labels), dtype=bool)
        with progress_bar(total=self.n_folds, desc=f"{spec.name} folds", unit="fold", leave=False) as bar:
            for fold in range(self.n_folds):
                result = self.fit_fold(spec, params, fold, epoch_reporter=epoch_reporter)
                _, valid_index = fold_indices(self.fold_of_row, fold)
                valid_prediction = spec.postprocess(np.asarray(result.valid_prediction))
                if oof is None:
                    # decoded strings (e.g. captcha answers) of any length go in an object array
                    dtype = object if valid_prediction.dtype.kind in "USO" else valid_prediction.dtype
                    oof = np.zeros((len(self.labels),) + valid_prediction.shape[1:], dtype=dtype)
                oof[valid_index] = valid_prediction
                test_predictions.append(result.test_prediction)
                seen[valid_index] = True
                fold_scores.append(self.metric(self.labels[valid_index], valid_prediction))
                histories.append(result.history)
                bar.set_postfix_str(f"fold {fold} {self.metric.name} {fold_scores[-1]:.5f}")
                bar.update(1)
                if after_fold is not None:
                    after_fold(fold, self.metric(self.labels[seen], oof[seen]))
        test = spec.postprocess(spec.combine_folds(test_predictions))
        return CrossValidation(oof, test, fold_scores, self.metric(self.labels, oof), histories)
