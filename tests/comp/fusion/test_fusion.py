import numpy as np
import pytest
from sklearn.metrics import log_loss

from comp.folds import assign_folds
from comp.fusion import Candidate, FittedFusion, blend, clip, clipped, fit_blend_weights, search_clip, stack
from comp.metrics import Metric

LOG_LOSS = Metric("log_loss", lambda t, p: log_loss(t, np.clip(p, 1e-15, 1 - 1e-15), labels=[0, 1]), "minimize",
                  probabilistic=True)


@pytest.fixture
def problem():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, size=400)
    good = np.clip(labels * 0.8 + 0.1 + rng.normal(0, 0.1, 400), 0.01, 0.99)
    noise = rng.uniform(0.01, 0.99, 400)
    return labels, good, noise, assign_folds(labels, n_folds=5, seed=0)


def candidate(name, oof, test=None):
    return Candidate(name, oof, oof[:50] if test is None else test, 0.0, [])


def test_blend_weights_are_non_negative_sum_to_one_and_favour_the_better_model(problem):
    labels, good, noise, _ = problem
    weights = fit_blend_weights(np.column_stack([good, noise]), labels, LOG_LOSS)
    assert np.all(weights >= 0) and weights.sum() == pytest.approx(1.0) and weights[0] > 0.9


def test_blend_and_stack_are_scored_out_of_fold_and_ignore_the_test_set(problem):
    labels, good, noise, folds = problem
    models = [candidate("good", good), candidate("noise", noise)]
    fused = blend(models, labels, folds, LOG_LOSS)
    stacked = stack(models, labels, folds, LOG_LOSS)
    assert fused.score == pytest.approx(LOG_LOSS(labels, fused.oof)) and len(fused.fold_scores) == 5
    assert stacked.score < LOG_LOSS(labels, noise)
    changed_test = [candidate("good", good, np.zeros(50) + 0.3), candidate("noise", noise, np.ones(50) * 0.7)]
    assert blend(changed_test, labels, folds, LOG_LOSS).details == fused.details


def test_clip_search_helps_overconfident_predictions(problem):
    labels, _, _, folds = problem
    overconfident = np.where(labels == 1, 0.999, 0.001)
    overconfident[:8] = 1 - overconfident[:8]  # a few confidently wrong rows
    margin, score = search_clip(overconfident, labels, LOG_LOSS)
    assert margin > 0 and score < LOG_LOSS(labels, overconfident)
    result = clipped(candidate("m", overconfident), labels, folds, LOG_LOSS)
    assert result.details["clip"] == [margin, 1 - margin] and result.test.min() >= margin
    assert np.array_equal(clip(np.array([0.0, 0.5, 1.0]), 0.1), [0.1, 0.5, 0.9])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_fitted_fusion_reapplied_to_the_members_test_rows_gives_the_fused_test_prediction(problem, dtype):
    labels, good, noise, folds = problem
    members = [candidate("good", good.astype(dtype)), candidate("noise", noise.astype(dtype))]
    tests = {member.name: member.test for member in members}
    blended, stacked = blend(members, labels, folds, LOG_LOSS), stack(members, labels, folds, LOG_LOSS)
    reapplied = {
        "blend": FittedFusion(kind="blend", members=("good", "noise"), weights=blended.details["weights"]),
        "stack": FittedFusion(kind="stack", members=("good", "noise"), weights=stacked.details["coefficients"],
                              intercept=stacked.details["intercept"]),
    }
    for fitted, fused in ((reapplied["blend"], blended), (reapplied["stack"], stacked)):
        assert np.array_equal(fitted.apply(tests), fused.test), fitted.kind
        clipped_fused = clipped(fused, labels, folds, LOG_LOSS)
        with_clip = FittedFusion(kind=fitted.kind, members=fitted.members, weights=fitted.weights,
                                 intercept=fitted.intercept, postprocessing="clip", params=clipped_fused.details)
        assert np.array_equal(with_clip.apply(tests), clipped_fused.test), fitted.kind


def test_a_fitted_vote_counts_only_the_answers_training_counted():
    answers = {"best": np.array(["1+2", "", "7"]), "second": np.array(["3", "4-1", "7"]),
               "third": np.array(["3", "4-1", "x"])}
    vote = FittedFusion(kind="vote", members=("best", "second", "third"))
    assert vote.apply(answers).tolist() == ["3", "4-1", "7"]
    assert vote.apply(answers, is_valid=lambda answer: answer not in ("", "3")).tolist() == ["1+2", "4-1", "7"]


def test_a_fitted_fusion_without_a_members_weight_is_refused():
    with pytest.raises(ValueError, match="no weight for its member 'b'"):
        FittedFusion(kind="blend", members=("a", "b"), weights={"a": 1.0})
