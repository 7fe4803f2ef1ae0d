"""FoldRunner checks each fold's result before saving it, and a fold stopped by TrialPruned prunes its trial."""

import numpy as np
import optuna
import pytest

from comp import CompError, FoldResult, ModelSpec, TrialPruned
from comp.engine import FoldRunner, open_storage, open_study, tune
from comp.metrics import get_metric

N_ROWS, N_TEST = 12, 5
FOLD_OF_ROW = np.arange(N_ROWS) % 2
LABELS = (np.arange(N_ROWS) // 2) % 2


class ScriptedSpec(ModelSpec):
    """Predicts 0.5 everywhere, except that the fit of ``broken_fold`` returns what ``broken`` makes of a good
    FoldResult; counts its fits."""

    name = "scripted"

    def __init__(self, broken=None, broken_fold: int = 0):
        self.broken = broken
        self.broken_fold = broken_fold
        self.fits = []

    def fit_fold(self, params, train_index, valid_index, context):
        self.fits.append(context.fold)
        result = FoldResult(np.full(len(valid_index), 0.5), np.full(N_TEST, 0.5))
        return self.broken(result) if self.broken is not None and context.fold == self.broken_fold else result


def runner_in(directory) -> FoldRunner:
    return FoldRunner(fold_of_row=FOLD_OF_ROW, labels=LABELS, metric=get_metric("log_loss"), cache_root=directory,
                      seed=0, n_test=N_TEST)


def with_nan(result):
    result.valid_prediction[2] = np.nan
    return result


def with_inf(result):
    result.test_prediction[4] = np.inf
    return result


@pytest.mark.parametrize("broken, expected", [
    (lambda result: FoldResult(result.valid_prediction[:-1], result.test_prediction),
     "scripted fold 1: valid_prediction has shape (5,), expected 6 rows first"),
    (lambda result: FoldResult(result.valid_prediction, np.full(N_TEST + 1, 0.5)),
     "scripted fold 1: test_prediction has shape (6,), expected 5 rows first"),
    (with_nan, "scripted fold 1: valid_prediction row 2 is not finite (NaN or inf); the fold is not saved"),
    (with_inf, "scripted fold 1: test_prediction row 4 is not finite (NaN or inf); the fold is not saved"),
    (lambda result: (result.valid_prediction, result.test_prediction),
     "scripted fold 1: fit_fold returned tuple, not a FoldResult"),
    (lambda result: FoldResult(np.float64(0.5), result.test_prediction),
     "scripted fold 1: valid_prediction has shape (), expected 6 rows first"),
], ids=["valid rows", "test rows", "nan", "inf", "not a FoldResult", "scalar"])
def test_a_bad_fold_is_a_one_line_error_naming_the_model_and_fold_and_is_not_saved(tmp_path, broken, expected):
    spec = ScriptedSpec(broken, broken_fold=1)
    runner = runner_in(tmp_path)
    with pytest.raises(CompError) as raised:
        runner.cross_validate(spec, {})
    assert str(raised.value) == expected
    assert spec.fits == [0, 1]
    assert (runner.fold_dir(spec, {}, 0) / "done.json").exists()
    assert not runner.fold_dir(spec, {}, 1).exists()  # neither predictions nor done.json of the bad fold


def test_a_rerun_after_a_bad_fold_fits_that_fold_again_instead_of_loading_it(tmp_path):
    runner = runner_in(tmp_path)
    spec = ScriptedSpec(lambda result: FoldResult(result.valid_prediction, result.test_prediction[:2]))
    with pytest.raises(CompError):
        runner.fit_fold(spec, {}, 0)
    spec.broken = None  # the bug is fixed; the user runs `comp train --resume`
    result = runner.fit_fold(spec, {}, 0)
    assert spec.fits == [0, 0] and result.test_prediction.shape == (N_TEST,)
    assert (runner.fold_dir(spec, {}, 0) / "done.json").exists()
    runner.fit_fold(spec, {}, 0)
    assert spec.fits == [0, 0]  # a good fold is saved and loaded from then on


def test_string_predictions_of_any_shape_after_the_rows_are_accepted(tmp_path):
    runner = runner_in(tmp_path)
    spec = ScriptedSpec(lambda result: FoldResult(np.array(["1+2"] * 6), np.full((N_TEST, 3), 0.25)))
    result = runner.fit_fold(spec, {}, 0)
    assert result.valid_prediction.dtype.kind == "U" and result.test_prediction.shape == (N_TEST, 3)


class PrunedOnOddTrials(ModelSpec):
    """A tunable spec whose odd-numbered trials stop inside fit_fold with comp.TrialPruned (as a network's
    per-epoch report would); even trials score by how close ``x`` is to 0.3."""

    name = "pruned_on_odd_trials"

    def default_params(self):
        return {"x": 0.5, "trial": 0}

    def search_space(self, trial):
        return {"x": trial.suggest_float("x", 0.05, 0.95), "trial": trial.number}

    def fit_fold(self, params, train_index, valid_index, context):
        if params["trial"] % 2:
            raise TrialPruned(f"fold {context.fold} after epoch 1")
        guess = np.where(LABELS[valid_index] == 1, 1 - abs(params["x"] - 0.3), abs(params["x"] - 0.3))
        return FoldResult(guess, np.full(N_TEST, params["x"]))


def test_trial_pruned_inside_fit_fold_prunes_the_optuna_trial_and_tuning_continues(tmp_path, toy_competition):
    study = open_study(storage=open_storage(f"sqlite:///{tmp_path / 'study.db'}"), name="pruning", direction="minimize",
                       seed=0)
    best = tune(PrunedOnOddTrials(), competition=toy_competition, runner=runner_in(tmp_path / "cache"), study=study,
                n_trials=4, timeout_seconds=None, worker="run-a")
    states = [trial.state for trial in study.trials]
    assert states == [optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED] * 2
    assert best == study.best_trial.user_attrs["params"] and best["trial"] % 2 == 0
