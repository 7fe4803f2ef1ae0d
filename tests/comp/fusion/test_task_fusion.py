"""Fusion for every task type keeps the predictions' shape, and every post-processing parameter is fitted without the
rows it is scored on (so a post-processed OOF score is honest)."""

import numpy as np
import pytest
from scipy.special import softmax

from comp.folds import assign_folds, fold_indices
from comp.fusion import (
    STEPS,
    Candidate,
    FittedFusion,
    PostProcessing,
    blend,
    postprocessed,
    stack,
    task_fusion,
)
from comp.metrics import Metric, get_metric
from comp.tasks import Task

N = 300


def candidate(name, oof, test):
    return Candidate(name, np.asarray(oof), np.asarray(test), 0.0, [])


def multiclass_models(rng):
    truth = np.arange(N) % 3
    signal = np.eye(3)[truth] * 2.0
    models = [candidate(f"m{index}", softmax(signal * strength + rng.normal(size=(N, 3)) * 2, axis=1),
                        softmax(rng.normal(size=(40, 3)), axis=1)) for index, strength in enumerate((1.5, 0.7))]
    return truth, models


def test_multiclass_blend_and_stack_keep_one_probability_column_per_class():
    rng = np.random.default_rng(0)
    truth, models = multiclass_models(rng)
    folds = assign_folds(truth, n_folds=5, seed=0)
    metric = get_metric("multi_logloss")
    fused = task_fusion(models, truth, folds, metric, Task("multiclass", ("a", "b", "c")))
    names = [c.name for c in fused]
    assert names == ["blend", "stack", "m0+temperature", "m1+temperature", "blend+temperature", "stack+temperature"]
    for c in fused:
        assert c.oof.shape == (N, 3) and c.test.shape == (40, 3)
        assert np.allclose(c.oof.sum(axis=1), 1) and np.allclose(c.test.sum(axis=1), 1)
    weights = fused[0].details["weights"]
    assert weights["m0"] > weights["m1"] and sum(weights.values()) == pytest.approx(1)
    assert fused[1].score < min(metric(truth, m.oof) for m in models)  # the stack learns the better mix


def test_post_processing_of_each_held_out_fold_is_fitted_on_the_other_folds_only():
    rng = np.random.default_rng(1)
    truth, models = multiclass_models(rng)
    folds = assign_folds(truth, n_folds=4, seed=0)
    metric = get_metric("multi_logloss")
    step = STEPS["temperature"]
    result = postprocessed(models[0], truth, folds, metric, step)
    for fold in range(4):
        fit_rows, held_out = fold_indices(folds, fold)
        params = step.fit(models[0].oof[fit_rows], truth[fit_rows], metric)
        assert result.details["fold_params"][fold] == params
        assert np.allclose(result.oof[held_out], step.apply(models[0].oof[held_out], params))
    everything = step.fit(models[0].oof, truth, metric)
    assert np.allclose(result.test, step.apply(models[0].test, everything))


def image_rows(images) -> np.ndarray:
    """(n,) object array holding one image per row."""
    rows = np.empty(len(images), dtype=object)
    for row, image in enumerate(images):
        rows[row] = image
    return rows


def test_post_processing_keeps_rows_that_are_whole_images_of_their_own_sizes():
    """An object array (one image per row, e.g. a slide's probability map) goes through as it is, not as floats."""
    images = image_rows([np.full((size, size + 1), 0.1 * size - 0.2) for size in (3, 4, 5, 6)])
    metric = Metric("mean_of_means", lambda truth, rows: float(np.mean([image.mean() for image in rows])), "maximize")
    step = PostProcessing("doubled", lambda rows, truth, metric: {"factor": 2.0},
                          lambda rows, params: image_rows([image * params["factor"] for image in rows]))
    result = postprocessed(candidate("maps", images, images[:2]), np.zeros(4), np.arange(4) % 2, metric, step)
    assert result.oof.dtype == object and [image.shape for image in result.oof] == [(3, 4), (4, 5), (5, 6), (6, 7)]
    assert np.allclose(result.oof[3], 0.8) and np.allclose(result.test[1], 0.4)


def test_thresholds_fitted_on_noise_do_not_flatter_the_oof_score():
    """Fitted and scored on the same rows, per-label thresholds on pure noise look better than chance; fitted out of
    fold, the score stays at chance level. Today's in-sample fit would fail the second assertion."""
    rng = np.random.default_rng(2)
    truth = (rng.random((200, 6)) < 0.3).astype(int)
    noise = rng.random((200, 6))
    metric = get_metric("f1_samples")
    folds = assign_folds(truth, n_folds=5, seed=0)
    step = STEPS["thresholds"]
    in_sample = metric(truth, step.apply(noise, step.fit(noise, truth, metric)))
    honest = postprocessed(candidate("noise", noise, noise[:10]), truth, folds, metric, step).score
    assert in_sample > honest + 0.01


def test_multilabel_thresholds_move_each_label_cut_to_one_half():
    rng = np.random.default_rng(3)
    truth = (rng.random((400, 2)) < 0.5).astype(int)
    # label 0 is predicted too low: its best cut is near 0.3, not 0.5
    probabilities = np.clip(truth * 0.45 + rng.random((400, 2)) * 0.3 - np.array([0.1, 0.0]), 0, 1)
    folds = assign_folds(truth, n_folds=5, seed=0)
    metric = get_metric("f1_samples")
    result = postprocessed(candidate("m", probabilities, probabilities[:5]), truth, folds, metric, STEPS["thresholds"])
    assert result.details["thresholds"][0] < 0.45 and result.score > metric(truth, probabilities)
    assert result.oof.shape == (400, 2) and ((result.oof >= 0) & (result.oof <= 1)).all()


def test_regression_cutpoints_raise_kappa_over_rounding():
    rng = np.random.default_rng(4)
    grades = rng.integers(0, 5, size=500)
    values = grades * 0.6 + 0.5 + rng.normal(scale=0.3, size=500)  # compressed: rounding puts many in wrong grades
    folds = assign_folds(values, n_folds=5, seed=0, stratify_by="values")
    metric = get_metric("qwk")
    result = postprocessed(candidate("m", values, values[:7]), grades, folds, metric, STEPS["cutpoints"])
    assert result.score > metric(grades, values) + 0.05
    assert set(np.unique(result.oof)) <= {0.0, 1.0, 2.0, 3.0, 4.0} and len(result.details["cutpoints"]) == 4


@pytest.mark.parametrize("kind", ["multilabel", "regression"])
def test_blend_and_stack_of_multilabel_and_regression_keep_their_shape(kind):
    rng = np.random.default_rng(5)
    if kind == "multilabel":
        truth = (rng.random((N, 3)) < 0.4).astype(int)
        models = [candidate(f"m{i}", np.clip(truth * (0.6 - 0.3 * i) + rng.random((N, 3)) * (0.4 + 0.3 * i), 0, 1),
                            rng.random((20, 3))) for i in range(2)]
        task, metric = Task("multilabel", ("x", "y", "z")), get_metric("f1_samples")
    else:
        truth = rng.normal(size=N)
        models = [candidate(f"m{i}", truth + rng.normal(scale=0.5 + i, size=N), rng.normal(size=20)) for i in range(2)]
        task, metric = Task("regression"), get_metric("rmse")
    folds = assign_folds(truth, n_folds=5, seed=0, stratify_by=task.stratify_by)
    for fused in (blend(models, truth, folds, metric), stack(models, truth, folds, metric, task=task)):
        assert fused.oof.shape == models[0].oof.shape and fused.test.shape == models[0].test.shape
        assert metric.is_better(fused.score, metric(truth, models[1].oof))  # better than the weaker model


@pytest.mark.parametrize("kind", ["multiclass", "multilabel", "regression"])
def test_a_recorded_stack_and_its_postprocessing_reapplied_to_new_rows_give_the_fused_test_prediction(kind):
    rng = np.random.default_rng(6)
    if kind == "multiclass":
        truth, models = multiclass_models(rng)
        task, metric = Task("multiclass", ("a", "b", "c")), get_metric("multi_logloss")
    elif kind == "multilabel":
        truth = (rng.random((N, 3)) < 0.4).astype(int)
        models = [candidate(f"m{i}", np.clip(truth * 0.5 + rng.random((N, 3)) * 0.5, 0, 1), rng.random((20, 3)))
                  for i in range(2)]
        task, metric = Task("multilabel", ("x", "y", "z")), get_metric("f1_samples")
    else:
        truth = rng.integers(0, 5, size=N).astype(float)
        models = [candidate(f"m{i}", truth * 0.6 + rng.normal(scale=0.5, size=N), rng.normal(size=20) + 2)
                  for i in range(2)]
        task, metric = Task("regression"), get_metric("qwk")
    folds = assign_folds(truth, n_folds=5, seed=0, stratify_by=task.stratify_by)
    fused = task_fusion(models, truth, folds, metric, task)
    by_name = {c.name: c for c in fused}
    tests = {m.name: m.test for m in models}
    for name, c in by_name.items():
        base, _, step = name.partition("+")
        recorded = by_name[base].details if base in by_name else {}
        kinds = {"blend": "blend", "stack": "stack"}
        fitted = FittedFusion(kind=kinds.get(base, "model"),
                              members=tuple(m.name for m in models) if base in kinds else (base,),
                              weights=recorded.get("weights") or recorded.get("coefficients") or {},
                              intercept=recorded.get("intercept", 0.0), task=recorded.get("task", "binary"),
                              classes=tuple(recorded.get("classes", ())), postprocessing=step or None,
                              params=c.details if step else {})
        assert np.allclose(fitted.apply(tests), c.test, atol=1e-9), name
