"""Optuna tuning across workers: a trial of a worker killed for good is failed and retried by another worker."""

import subprocess
import sys
import time

import optuna

from comp.engine import FoldRunner, open_storage, open_study, tune

DEAD_WORKER = """
import os, signal, sys
from comp.engine import open_storage, open_study
study = open_study(storage=open_storage(sys.argv[1], heartbeat_seconds=1, grace_seconds=2), name="toy.logistic",
                   direction="minimize", seed=1)  # not run-a's seed, whose first sample would be the same C

def killed_mid_trial(trial):
    trial.set_user_attr("worker", "run-b")
    trial.suggest_float("C", 1e-3, 10.0, log=True)
    os.kill(os.getpid(), signal.SIGKILL)

study.optimize(killed_mid_trial, n_trials=1)
"""


def test_a_trial_of_a_worker_that_never_comes_back_is_retried_by_another_after_the_grace_period(
        tmp_path, toy_competition):
    data = toy_competition.demo(tmp_path / "data", n=120, seed=1)
    dataset = toy_competition.read(data, {})
    spec = toy_competition.models(type("Context", (), {"dataset": dataset})())[0]
    runner = FoldRunner(fold_of_row=toy_competition.folds(dataset, 3, 0), labels=dataset.labels,
                        metric=toy_competition.metric, cache_root=tmp_path / "cache", seed=0)
    url = f"sqlite:///{tmp_path / 'study.db'}"
    dead = subprocess.run([sys.executable, "-c", DEAD_WORKER, url], check=False, capture_output=True, text=True)
    assert dead.returncode == -9, dead.stderr
    study = open_study(storage=open_storage(url, heartbeat_seconds=1, grace_seconds=2), name="toy.logistic",
                       direction="minimize", seed=0)
    [killed] = study.trials
    assert killed.state == optuna.trial.TrialState.RUNNING and killed.user_attrs["worker"] == "run-b"
    time.sleep(3.5)  # past the grace period since run-b's last heartbeat (sqlite stores whole seconds)
    tune(spec, competition=toy_competition, runner=runner, study=study, n_trials=3, timeout_seconds=None,
         worker="run-a")
    assert study.trials[killed.number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in study.trials if t.number > killed.number and t.params == killed.params]
    assert len(retried) == 1 and retried[0].state == optuna.trial.TrialState.COMPLETE
    assert retried[0].user_attrs["worker"] == "run-a"
    assert len([t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]) == 3
