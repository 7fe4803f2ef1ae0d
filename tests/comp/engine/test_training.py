"""The shared training loop on the toy plugin: fold reuse, reproducibility, resume, shared Optuna storage."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import optuna
import pytest

from comp.engine import open_storage, open_study, train, tune
from comp.io import Run, resolve_config
from tests.conftest import TOY_PLUGIN_SOURCE, run_comp


def toy_config(tmp_path, data, **overrides):
    return resolve_config({}, flags={"data": str(data), "folds": 4, "trials": 4, "seed": 7,
                                     "runs_root": str(tmp_path / "runs"),
                                     "submissions_root": str(tmp_path / "submissions"), **overrides})


@pytest.fixture
def toy_data(tmp_path, toy_competition):
    return toy_competition.demo(tmp_path / "data", n=120, seed=1)


def test_every_model_uses_the_saved_folds_and_the_run_is_complete(tmp_path, toy_competition, toy_data):
    run = Run.create(tmp_path / "runs", "toy")
    scores = train(toy_competition, toy_config(tmp_path, toy_data), run=run)
    folds = json.loads(run.file("folds.json").read_text())
    assert folds["n_folds"] == 4 and len(folds["fold"]) == 120 and sorted(set(folds["fold"])) == [0, 1, 2, 3]
    labels = np.arange(120) % 2
    fold_of_row = np.array(folds["fold"])
    for name in ("logistic", "first_coordinate", "blend", "stack"):
        oof, test = run.load_predictions(name)
        assert oof.shape == (120,) and test.shape == (60,)
    for name, model in scores["models"].items():
        oof, _ = run.load_predictions(name)
        per_fold = [toy_competition.metric(labels[fold_of_row == k], oof[fold_of_row == k]) for k in range(4)]
        assert np.allclose(per_fold, model["fold_scores"])  # the scores were computed on the saved folds
    assert scores["final"]["name"] in set(scores["models"]) | set(scores["fusion"])
    assert run.file("submission.csv").exists() and (tmp_path / "submissions" / "toy" / f"{run.id}.csv").exists()
    assert scores["models"]["logistic"]["trials"] == 4


def test_a_spec_with_its_own_trial_count_is_tuned_that_many_times_and_the_others_the_runs(
        tmp_path, toy_competition, toy_data, monkeypatch):
    from comp_toy_plugin import LogisticSpec

    monkeypatch.setattr(LogisticSpec, "trials", 2)
    scores = train(toy_competition, toy_config(tmp_path, toy_data), run=Run.create(tmp_path / "runs", "toy"))
    assert scores["models"]["logistic"]["trials"] == 2
    monkeypatch.setattr(LogisticSpec, "trials", 0)  # 0: the first trial's values, no study
    scores = train(toy_competition, toy_config(tmp_path, toy_data), run=Run.create(tmp_path / "runs", "toy"))
    assert scores["models"]["logistic"]["trials"] == 0 and scores["models"]["logistic"]["study"] is None


def test_same_command_twice_gives_the_same_oof_score(tmp_path, toy_competition, toy_data):
    first = train(toy_competition, toy_config(tmp_path, toy_data), run=Run.create(tmp_path / "runs", "toy"))
    second = train(toy_competition, toy_config(tmp_path, toy_data), run=Run.create(tmp_path / "runs", "toy"))
    assert first["final"] == second["final"]
    assert first["models"]["logistic"]["params"] == second["models"]["logistic"]["params"]


def test_resume_skips_finished_folds_after_a_crash(tmp_path, toy_competition, toy_data, monkeypatch):
    from comp_toy_plugin import LogisticSpec

    calls = []
    original = LogisticSpec.fit_fold

    def crash_on_third_fold(self, params, train_index, valid_index, context):
        calls.append(context.seed)
        if len(calls) == 3:
            raise KeyboardInterrupt("power cut")
        return original(self, params, train_index, valid_index, context)

    monkeypatch.setattr(LogisticSpec, "fit_fold", crash_on_third_fold)
    config = toy_config(tmp_path, toy_data, trials=0)
    run = Run.create(tmp_path / "runs", "toy")
    with pytest.raises(KeyboardInterrupt):
        train(toy_competition, config, run=run)
    assert len(calls) == 3
    calls.clear()
    scores = train(toy_competition, config, run=Run(run.path))
    assert len(calls) == 2  # folds 0 and 1 came from the fold cache; 2 and 3 were fitted now
    assert scores["models"]["logistic"]["score"] > 0


def test_a_trial_killed_mid_way_is_retried_and_finished_trials_are_kept(tmp_path, toy_competition, toy_data):
    from comp.engine import FoldRunner

    dataset = toy_competition.read(toy_data, {})
    spec = toy_competition.models(type("Context", (), {"dataset": dataset})())[0]
    fold_of_row = toy_competition.folds(dataset, 3, 0)
    runner = FoldRunner(fold_of_row=fold_of_row, labels=dataset.labels, metric=toy_competition.metric,
                        cache_root=tmp_path / "cache", seed=0)
    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}")
    study = open_study(storage=storage, name="toy.logistic", direction="minimize", seed=0)
    tune(spec, competition=toy_competition, runner=runner, study=study, n_trials=3, timeout_seconds=None,
         worker="run-a")
    killed = study.ask()
    killed.suggest_float("C", 1e-3, 10.0, log=True)
    killed.set_user_attr("worker", "run-a")  # a trial left RUNNING by a kill -9 of run-a
    other = study.ask()
    other.set_user_attr("worker", "run-b")  # still running on another machine: must be left alone
    tune(spec, competition=toy_competition, runner=runner, study=study, n_trials=5, timeout_seconds=None,
         worker="run-a")
    states = [trial.state for trial in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 1
    assert study.trials[killed.number].state == optuna.trial.TrialState.FAIL
    assert study.trials[other.number].state == optuna.trial.TrialState.RUNNING
    retried = [t for t in study.trials if t.number > other.number and t.params == killed.params]
    assert len(retried) == 1 and retried[0].state == optuna.trial.TrialState.COMPLETE
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(finished) == 5


def test_two_workers_on_one_storage_add_trials_to_one_study(tmp_path, toy_plugin_site):
    env = {"PYTHONPATH": str(toy_plugin_site)}
    assert run_comp("demo", "toy", "--out", str(tmp_path / "demo"), "--n", "80", env=env).returncode == 0
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    command = [sys.executable, "-m", "comp.cli", "train", "toy", "--data", str(tmp_path / "demo" / "toy"),
               "--storage", url, "--trials", "60", "--folds", "3"]  # enough for both to join (a few s each)
    environment = {**os.environ, **env}
    workers = [subprocess.Popen(command + ["--out", str(tmp_path / f"worker{index}")], cwd=tmp_path,
                                env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for index in range(2)]
    for worker in workers:
        _, stderr = worker.communicate(timeout=600)
        assert worker.returncode == 0, stderr
    study = optuna.load_study(study_name="toy.logistic.k3.s42", storage=url)
    workers_seen = {trial.user_attrs.get("worker") for trial in study.trials}
    assert workers_seen == {"worker0", "worker1"}
    assert len([t for t in study.trials if t.state.is_finished()]) >= 60


def test_time_budget_ends_tuning_early_and_keeps_the_best_trial(tmp_path, toy_competition, toy_data):
    config = toy_config(tmp_path, toy_data, trials=100_000, time_budget=0.2)  # 12 s for two models: room for a
    # few trials even on a loaded machine (3 s left room for one trial only at a load average of 8 on 2 cores)
    run = Run.create(tmp_path / "runs", "toy")
    started = time.perf_counter()
    scores = train(toy_competition, config, run=run)
    assert time.perf_counter() - started < 120
    trials = scores["models"]["logistic"]["trials"]
    assert 1 < trials < 100_000
    assert scores["models"]["logistic"]["score"] <= scores["models"]["first_coordinate"]["score"]


def test_training_scikit_learn_models_never_imports_tensorflow_yet_asks_it_for_deterministic_ops(tmp_path):
    # A warm-cache run of logistic heads starts in about a second instead of paying TensorFlow's import;
    # whatever imports TensorFlow later (a Keras head, a report's activation maps) still gets deterministic ops.
    script = f"""
import sys
sys.path.insert(0, {str(TOY_PLUGIN_SOURCE)!r})
from comp_toy_plugin import ToyCompetition
from comp.io import resolve_config
from comp.io import Run
from comp.engine import train
competition = ToyCompetition()
data = competition.demo({str(tmp_path / 'data')!r}, n=60, seed=1)
config = resolve_config({{}}, flags={{"data": str(data), "folds": 3, "trials": 2, "seed": 7,
                                     "runs_root": {str(tmp_path / 'runs')!r},
                                     "submissions_root": {str(tmp_path / 'submissions')!r}}})
train(competition, config, run=Run.create({str(tmp_path / 'runs')!r}, "toy"))
print("tensorflow imported:", "tensorflow" in sys.modules)
from tensorflow.python.framework import config as tensorflow_config
print("deterministic ops:", tensorflow_config.is_op_determinism_enabled())
"""
    environment = {key: value for key, value in os.environ.items() if key != "TF_DETERMINISTIC_OPS"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=environment,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    assert "tensorflow imported: False" in result.stdout
    assert "deterministic ops: True" in result.stdout
