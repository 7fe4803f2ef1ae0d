"""Seeded k-fold assignment: stratified by classes, by a label matrix (multi-label) or by binned values (regression),
and grouped when the plugin supplies groups (rows of one group never straddle folds)."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import KFold, StratifiedGroupKFold, StratifiedKFold

from comp.errors import CompError

STRATA = ("classes", "labels", "values")
VALUE_BINS = 10  # regression targets are stratified by their deciles (fewer bins when the data is small)


def assign_folds(
    targets: np.ndarray | None, *, n_folds: int, seed: int, groups: np.ndarray | None = None,
    stratify_by: str | None = None,
) -> np.ndarray:
    """The fold number (0..n_folds-1) of every training row, shape (n_rows,).

    ``targets`` are (n,) classes, an (n, K) 0/1 label matrix, or (n,) continuous values; ``stratify_by`` says which
    ("classes", "labels", "values"; by default classes when the targets are discrete, values otherwise), so a
    regression target is binned, never silently treated as classes. Multi-label targets use iterative
    stratification. Groups take precedence: grouped folds are stratified by classes only.
    """
    n_rows = len(targets) if targets is not None else len(groups)
    if n_folds < 2:
        raise CompError(f"--folds must be at least 2 (got {n_folds})")
    if n_rows < n_folds:
        raise CompError(f"cannot make {n_folds} folds from {n_rows} training rows")
    if targets is not None:
        targets = np.asarray(targets)
        stratify_by = stratify_by or ("labels" if targets.ndim == 2 else "classes" if _is_discrete(targets)
                                      else "values")
        if stratify_by not in STRATA:
            raise ValueError(f"stratify_by must be one of {', '.join(STRATA)}, not {stratify_by!r}")
    if targets is not None and stratify_by == "labels" and groups is None:
        return iterative_stratification(targets, n_folds=n_folds, seed=seed)
    strata = None
    if targets is not None and stratify_by == "values":
        strata = binned(targets.astype(float), n_bins=min(VALUE_BINS, n_rows // n_folds))
    elif targets is not None and stratify_by == "classes":
        strata = targets
    if strata is not None and np.min(np.unique(strata, return_counts=True)[1]) < n_folds:
        strata = None  # a class rarer than the folds cannot be spread over them (checked up front by the engine)
    placeholder = np.zeros(n_rows)
    if groups is not None:
        n_groups = len(np.unique(groups))
        if n_groups < n_folds:
            raise CompError(f"cannot make {n_folds} grouped folds from {n_groups} groups")
        classes = strata if stratify_by == "classes" else None
        splitter = (StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed) if classes is not None
                    else _ShuffledGroupKFold(n_folds, seed))
        splits = splitter.split(placeholder, classes, groups)
    elif strata is not None:
        splits = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(placeholder, strata)
    else:
        splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(placeholder)
    fold_of_row = np.full(n_rows, -1, dtype=np.int64)
    for fold, (_, held_out) in enumerate(splits):
        fold_of_row[held_out] = fold
    return fold_of_row


def binned(values: np.ndarray, *, n_bins: int) -> np.ndarray:
    """Quantile bin (0..n_bins-1) of each value, shape (n,): the strata of a continuous target."""
    if n_bins < 2:
        return np.zeros(len(values), dtype=np.int64)
    edges = np.unique(np.quantile(values, np.linspace(0, 1, n_bins + 1)[1:-1]))
    return np.searchsorted(edges, values, side="right")


def iterative_stratification(label_matrix: np.ndarray, *, n_folds: int, seed: int) -> np.ndarray:
    """Folds of a multi-label (n, K) 0/1 matrix by iterative stratification (Sechidis, Tsoumakas and Vlahavas 2011):
    the rarest label's rows are dealt first, each to the fold that still wants most of that label, so every label's
    rows spread over the folds as evenly as the counts allow. Shape (n,)."""
    labels = np.asarray(label_matrix, dtype=bool)
    n_rows = len(labels)
    rng = np.random.default_rng(seed)
    fold_of_row = np.full(n_rows, -1, dtype=np.int64)
    wanted_rows = np.full(n_folds, n_rows / n_folds)
    wanted_labels = np.outer(np.full(n_folds, 1.0 / n_folds), labels.sum(axis=0))  # (folds, K)
    unassigned = labels.copy()
    order = rng.permutation(n_rows)  # ties between rows are broken by this seeded order

    def deal(row: int, candidates: np.ndarray) -> None:
        best = candidates[wanted_rows[candidates] == wanted_rows[candidates].max()]
        fold = int(best[rng.integers(len(best))]) if len(best) > 1 else int(best[0])
        fold_of_row[row] = fold
        wanted_rows[fold] -= 1
        wanted_labels[fold] -= labels[row]
        unassigned[row] = False

    while unassigned.any():
        remaining = unassigned.sum(axis=0)
        label = int(np.argmin(np.where(remaining > 0, remaining, np.iinfo(np.int64).max)))
        for row in order[unassigned[order, label]]:
            column = wanted_labels[:, label]
            deal(int(row), np.flatnonzero(column == column.max()))
    for row in order[fold_of_row[order] < 0]:  # rows with no label at all
        deal(int(row), np.arange(n_folds))
    return fold_of_row


def _is_discrete(labels: np.ndarray) -> bool:
    labels = np.asarray(labels)
    return labels.ndim == 1 and (labels.dtype.kind in "biuUSO" or bool(np.all(np.mod(labels, 1) == 0)))


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
