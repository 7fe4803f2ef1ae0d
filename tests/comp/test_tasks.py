"""Task types: the shape of predictions, how folds stratify, and the checks of targets and predictions."""

import numpy as np
import pytest

from comp import CompError
from comp.tasks import Task


def test_each_task_type_has_its_prediction_shape_stratification_and_default_metric():
    multiclass = Task("multiclass", ("cardboard", "glass", "metal"))
    assert multiclass.prediction_shape(5) == (5, 3) and multiclass.stratify_by == "classes"
    assert multiclass.default_metric == "multi_logloss" and multiclass.describe() == "multiclass, 3 classes"
    assert Task("multilabel", ("a", "b")).prediction_shape(4) == (4, 2)
    assert Task("multilabel", ("a", "b")).stratify_by == "labels"
    assert Task("binary", ("cat", "dog")).prediction_shape(4) == (4,)
    assert Task("regression").prediction_shape(4) == (4,) and Task("regression").stratify_by == "values"


def test_targets_are_checked_against_the_task():
    assert Task("multiclass", ("a", "b", "c")).check_targets([0, 2, 1], "train.csv").dtype == np.int64
    with pytest.raises(CompError, match="class indices 0..2"):
        Task("multiclass", ("a", "b", "c")).check_targets([0, 3], "train.csv")
    with pytest.raises(CompError, match=r"0/1 matrix \(n, 2\)"):
        Task("multilabel", ("a", "b")).check_targets([[0, 1, 1]], "train.csv")
    with pytest.raises(CompError, match="row 1 is not a finite number"):
        Task("regression").check_targets([1.0, np.nan], "train.csv")


def test_predictions_of_the_wrong_shape_or_not_finite_are_one_line_errors():
    task = Task("multiclass", ("a", "b", "c"))
    task.check_prediction(np.full((2, 3), 1 / 3), 2, "oof")
    with pytest.raises(CompError, match=r"oof: prediction of shape \(2,\), the multiclass task needs \(2, 3\)"):
        task.check_prediction(np.zeros(2), 2, "oof")
    with pytest.raises(CompError, match="NaN or inf"):
        Task("regression").check_prediction(np.array([1.0, np.inf]), 2, "test")


def test_unknown_kinds_and_inconsistent_classes_are_refused():
    with pytest.raises(CompError, match="unknown task 'ordinal'"):
        Task("ordinal")
    with pytest.raises(CompError, match="binary task has 2 classes"):
        Task("binary", ("a", "b", "c"))
    with pytest.raises(CompError, match="repeated class names"):
        Task("multiclass", ("a", "a"))
    with pytest.raises(CompError, match="at least 2"):
        Task("multiclass", ("a",))


def test_training_refuses_a_model_whose_predictions_lack_the_tasks_columns(tmp_path, toy_competition):
    """A multiclass competition whose model returns one column per row is stopped with the model named."""
    from comp.engine import train
    from comp.io import Run, resolve_config

    data = toy_competition.demo(tmp_path / "data", n=60, seed=1)
    toy_competition.task = None
    original_read = type(toy_competition).read

    def read_as_multiclass(self, data_dir, config):
        dataset = original_read(self, data_dir, config)
        dataset.task = Task("multiclass", ("a", "b"))
        dataset.targets = dataset.labels
        return dataset

    type(toy_competition).read = read_as_multiclass
    try:
        config = resolve_config({}, flags={"data": str(data), "folds": 3, "trials": 0, "seed": 0,
                                           "runs_root": str(tmp_path / "runs"),
                                           "submissions_root": str(tmp_path / "submissions")})
        with pytest.raises(CompError, match=r"OOF: prediction of shape \(60,\), the multiclass task needs \(60, 2\)"):
            train(toy_competition, config, run=Run.create(tmp_path / "runs", "toy"))
    finally:
        type(toy_competition).read = original_read
