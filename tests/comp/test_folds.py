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
