"""Every named metric against a hand-computed example, with its direction and what it scores."""

import math

import numpy as np
import pytest

from comp import CompError
from comp.metrics import Metric, get_metric, list_metrics, register_metric

BINARY_TRUTH = np.array([1, 0, 1, 0])
BINARY_P = np.array([0.9, 0.2, 0.4, 0.6])
CLASS_TRUTH = np.array([0, 1, 2, 2])
CLASS_P = np.array([[0.7, 0.2, 0.1],
                    [0.1, 0.8, 0.1],
                    [0.2, 0.5, 0.3],
                    [0.0, 0.0, 1.0]])
LABEL_TRUTH = np.array([[1, 0, 1], [0, 1, 0]])
LABEL_P = np.array([[0.9, 0.6, 0.2], [0.1, 0.7, 0.3]])  # at 0.5: [1, 1, 0] and [0, 1, 0]

# Computed by hand, step by step, in the comments.
EXAMPLES = {
    # -(ln .9 + ln .8 + ln .4 + ln .4) / 4
    "log_loss": (BINARY_TRUTH, BINARY_P, -(math.log(0.9) + math.log(0.8) + 2 * math.log(0.4)) / 4),
    # -(ln .7 + ln .8 + ln .3 + ln 1) / 4 (the 1.0 is clipped to 1 - 1e-15 and renormalised: ln 1 = 0 to 1e-15)
    "multi_logloss": (CLASS_TRUTH, CLASS_P, -(math.log(0.7) + math.log(0.8) + math.log(0.3)) / 4),
    # arg-max [0, 1, 1, 2] vs [0, 1, 2, 2]: 3 of 4
    "accuracy": (CLASS_TRUTH, CLASS_P, 0.75),
    # recall per class: 1, 1, 1/2 -> mean 5/6
    "balanced_accuracy": (CLASS_TRUTH, CLASS_P, 5 / 6),
    # F1 per class: 1, 2/3 (p 1/2, r 1), 2/3 (p 1, r 1/2) -> mean 7/9
    "f1_macro": (CLASS_TRUTH, CLASS_P, 7 / 9),
    # micro F1 of single-label classes is the accuracy
    "f1_micro": (CLASS_TRUTH, CLASS_P, 0.75),
    # sample 1: predicted {0, 1} vs true {0, 2}: p 1/2 r 1/2 F1 1/2; sample 2: {1} vs {1}: 1 -> mean 3/4
    "f1_samples": (LABEL_TRUTH, LABEL_P, 0.75),
    # sample 1: F2 = 5 p r / (4 p + r) = 5 * .25 / 2.5 = 1/2; sample 2: 1 -> 3/4
    "fbeta_samples": (LABEL_TRUTH, LABEL_P, 0.75),
    # positives .9, .4 vs negatives .2, .6: pairs won 2 + 1 = 3 of 4
    "roc_auc": (BINARY_TRUTH, BINARY_P, 0.75),
    # (1 - 1)^2, (2 - 3)^2, (4 - 2)^2 -> sqrt(5 / 3); mean absolute error (0 + 1 + 2) / 3
    "rmse": (np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0]), math.sqrt((0 + 1 + 4) / 3)),
    "mae": (np.array([1.0, 2.0, 4.0]), np.array([1.0, 3.0, 2.0]), 1.0),
}


def kappa_by_definition(truth, grades, n_grades):
    """Quadratic weighted kappa from its definition: 1 - sum(w O) / sum(w E), w_ij = (i - j)^2 / (K - 1)^2."""
    observed = np.zeros((n_grades, n_grades))
    for t, g in zip(truth, grades):
        observed[t, g] += 1
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    weights = np.array([[(i - j) ** 2 for j in range(n_grades)] for i in range(n_grades)]) / (n_grades - 1) ** 2
    return 1 - (weights * observed).sum() / (weights * expected).sum()


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_metric_matches_its_hand_computed_example(name):
    truth, prediction, expected = EXAMPLES[name]
    assert get_metric(name)(truth, prediction) == pytest.approx(expected, abs=1e-9)


def test_quadratic_weighted_kappa_rounds_values_and_matches_its_definition():
    truth = np.array([0, 1, 2, 2, 1])
    values = np.array([0.2, 1.6, 2.4, 1.4, 0.6])  # rounded: 0, 2, 2, 1, 1
    expected = kappa_by_definition(truth, [0, 2, 2, 1, 1], 3)
    assert get_metric("qwk")(truth, values) == pytest.approx(expected, abs=1e-12)
    one_hot = np.eye(3)[[0, 2, 2, 1, 1]]  # class probabilities are arg-maxed to the same grades
    assert get_metric("qwk")(truth, one_hot) == pytest.approx(expected, abs=1e-12)


def test_multiclass_roc_auc_is_the_macro_one_vs_rest_mean():
    # class 0: positive .7 vs negatives .1 .2 0 -> 1; class 1: .8 vs .2 .5 0 -> 1; class 2: .3, 1 vs .1 .1 -> 1
    assert get_metric("roc_auc")(CLASS_TRUTH, CLASS_P) == pytest.approx(1.0)


def test_fbeta_takes_its_beta_from_options():
    # sample 1 with beta 1 is the plain F1 (1/2), as with f1_samples
    assert get_metric("fbeta_samples", beta=1.0)(LABEL_TRUTH, LABEL_P) == pytest.approx(0.75)
    only_recall = np.array([[1, 1, 1], [0, 1, 0]])  # sample 1: p 2/3 r 1
    f_half = (1 + 0.25) * (2 / 3) / (0.25 * (2 / 3) + 1)
    assert get_metric("fbeta_samples", beta=0.5)(LABEL_TRUTH, only_recall) == pytest.approx((f_half + 1) / 2)


def test_every_metric_declares_direction_and_what_it_scores():
    kinds = {name: (get_metric(name).direction, get_metric(name).scores) for name in list_metrics()}
    assert kinds["log_loss"] == ("minimize", "probabilities")
    assert kinds["multi_logloss"] == ("minimize", "probabilities")
    assert kinds["roc_auc"] == ("maximize", "probabilities")
    assert kinds["accuracy"] == ("maximize", "labels")
    assert kinds["f1_samples"] == ("maximize", "labels")
    assert kinds["qwk"] == ("maximize", "values")
    assert kinds["rmse"] == ("minimize", "values")
    assert get_metric("log_loss").probabilistic and not get_metric("accuracy").probabilistic


def test_a_plugin_registers_its_own_metric_and_unknown_names_list_the_known():
    @register_metric("test_hit_rate")
    def hit_rate() -> Metric:
        return Metric("test_hit_rate", lambda t, p: float(np.mean(t == p)), "maximize", scores="labels")

    assert get_metric("test_hit_rate")(np.array([1, 2]), np.array([1, 3])) == 0.5
    with pytest.raises(CompError, match=r"unknown metric 'nope'; known: .*accuracy.*qwk"):
        get_metric("nope")


def test_a_metric_with_an_unknown_kind_or_direction_is_refused():
    with pytest.raises(ValueError, match="direction"):
        Metric("x", lambda t, p: 0.0, "up")
    with pytest.raises(ValueError, match="scores"):
        Metric("x", lambda t, p: 0.0, "maximize", scores="ranks")
