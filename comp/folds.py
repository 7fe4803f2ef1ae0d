"""Seeded k-fold assignment, stratified by default and grouped when the plugin supplies groups."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold, StratifiedGroupKFold, StratifiedKFold

from comp.errors import CompError


def assign_folds(
    labels: np.ndarray | None, *, n_folds: int, seed: int, groups: np.ndarray | None = None
) -> np.ndarray:
    """Return the fold number (0..n_folds-1) of every training row.

    Rows of one group never straddle folds; labels, when given and discrete, are balanced across folds.
    """
    n_rows = len(labels) if labels is not None else len(groups)
    if n_folds < 2:
        raise CompError(f"--folds must be at least 2 (got {n_folds})")
    if n_rows < n_folds:
        raise CompError(f"cannot make {n_folds} folds from {n_rows} training rows")
    placeholder = np.zeros(n_rows)
    stratify = labels is not None and _is_discrete(labels) and np.min(np.unique(labels, return_counts=True)[1]) >= n_folds
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < n_folds:
            raise CompError(f"cannot make {n_folds} grouped folds from {n_groups} groups")
        if stratify:
            splitter = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
        else:
            splitter = _ShuffledGroupKFold(n_folds, seed)
        splits = splitter.split(placeholder, labels if stratify else None, groups)
    elif stratify:
        splits = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(placeholder, labels)
    else:
        splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(placeholder)
    fold_of_row = np.full(n_rows, -1, dtype=np.int64)
    for fold, (_, held_out) in enumerate(splits):
        fold_of_row[held_out] = fold
    return fold_of_row


def _is_discrete(labels: np.ndarray) -> bool:
    labels = np.asarray(labels)
    return labels.ndim == 1 and (labels.dtype.kind in "biuUSO" or np.all(np.mod(labels, 1) == 0))


class _ShuffledGroupKFold:
    """Group k-fold with a seeded shuffle of the groups (sklearn's GroupKFold does not shuffle)."""

    def __init__(self, n_folds: int, seed: int):
        self.n_folds = n_folds
        self.seed = seed

    def split(self, rows, labels, groups):
        unique_groups = np.unique(groups)
        order = np.random.default_rng(self.seed).permutation(len(unique_groups))
        fold_of_group = {group: index % self.n_folds for index, group in zip(range(len(order)), unique_groups[order])}
        fold_of_row = np.array([fold_of_group[group] for group in groups])
        for fold in range(self.n_folds):
            yield np.flatnonzero(fold_of_row != fold), np.flatnonzero(fold_of_row == fold)


def fold_indices(fold_of_row: np.ndarray, fold: int) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, held-out rows) of one fold."""
    return np.flatnonzero(fold_of_row != fold), np.flatnonzero(fold_of_row == fold)
