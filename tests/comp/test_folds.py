import numpy as np
import pytest

from comp import CompError
from comp.folds import assign_folds


def test_stratified_folds_are_seeded_and_balanced():
    labels = np.array([0] * 60 + [1] * 40)
    folds = assign_folds(labels, n_folds=5, seed=3)
    assert np.array_equal(folds, assign_folds(labels, n_folds=5, seed=3))
    assert not np.array_equal(folds, assign_folds(labels, n_folds=5, seed=4))
    for fold in range(5):
        assert (labels[folds == fold] == 1).sum() == 8 and (folds == fold).sum() == 20


def test_grouped_folds_never_split_a_group():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 30, size=200)
    labels = rng.integers(0, 2, size=200)
    folds = assign_folds(labels, n_folds=4, seed=0, groups=groups)
    for group in np.unique(groups):
        assert len(np.unique(folds[groups == group])) == 1
    assert set(folds) == {0, 1, 2, 3}


def test_too_few_rows_or_groups_is_a_clear_error():
    with pytest.raises(CompError, match="cannot make 5 folds from 3"):
        assign_folds(np.array([0, 1, 0]), n_folds=5, seed=0)
    with pytest.raises(CompError, match="from 2 groups"):
        assign_folds(np.array([0, 1] * 5), n_folds=3, seed=0, groups=np.array([0, 1] * 5))


def test_multilabel_folds_spread_every_label_evenly_by_iterative_stratification():
    rng = np.random.default_rng(0)
    labels = np.zeros((300, 5), dtype=int)
    labels[:, 0] = rng.random(300) < 0.5
    labels[:, 1] = rng.random(300) < 0.2
    labels[:, 2] = rng.random(300) < 0.05  # about 15 rows: 3 per fold
    labels[:, 3] = labels[:, 1] & (rng.random(300) < 0.5)
    labels[:, 4] = rng.random(300) < 0.1
    folds = assign_folds(labels, n_folds=5, seed=1)
    assert np.array_equal(folds, assign_folds(labels, n_folds=5, seed=1))
    assert set(folds) == {0, 1, 2, 3, 4} and np.bincount(folds).min() >= 58
    for label in range(5):
        per_fold = np.bincount(folds[labels[:, label] == 1], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1, (label, per_fold)


def test_regression_targets_are_binned_not_treated_as_classes():
    rng = np.random.default_rng(2)
    values = rng.lognormal(size=200)
    folds = assign_folds(values, n_folds=4, seed=0)
    # every fold gets a share of the smallest and of the largest values (deciles are spread)
    order = np.argsort(values)
    assert set(folds[order[:20]]) == {0, 1, 2, 3} and set(folds[order[-20:]]) == {0, 1, 2, 3}
    counts = rng.permutation(200)  # integer-valued (e.g. counts): each value once, so "classes" of one row each
    folds = assign_folds(counts, n_folds=4, seed=0, stratify_by="values")
    for decile in range(10):  # binned by deciles: each fold holds 5 of every decile's 20 rows
        in_decile = (counts >= 20 * decile) & (counts < 20 * (decile + 1))
        assert np.bincount(folds[in_decile], minlength=4).tolist() == [5, 5, 5, 5]
