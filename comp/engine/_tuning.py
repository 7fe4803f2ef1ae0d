"""Optuna studies per model spec: seeded TPE, fold-by-fold pruning, sqlite in the run or any shared URL."""

from __future__ import annotations

import logging
import time
import warnings

import optuna
from optuna.study import MaxTrialsCallback
from optuna.trial import TrialState
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

from comp.contract import Competition, ModelSpec
from comp.engine._fold_runner import FoldRunner
from comp.errors import CompError, TrialPruned
from comp.io import progress_bar

logger = logging.getLogger("comp.tune")
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)
EPOCH_STEPS = 100_000  # per-epoch reports of fold f use steps EPOCH_STEPS * (f + 1) + epoch
HEARTBEAT_SECONDS = 60  # a running trial's worker writes a heartbeat this often
GRACE_SECONDS = 600  # a RUNNING trial without a heartbeat for this long belongs to a dead worker

with warnings.catch_warnings():  # the heartbeat and its retry callback are marked experimental since Optuna 2.8
    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
    retry_trial = optuna.storages.RetryHeartbeatStaleTrialCallback()  # queue a failed trial's params again


def open_storage(url: str, *, attempts: int = 5, heartbeat_seconds: int = HEARTBEAT_SECONDS,
                 grace_seconds: int = GRACE_SECONDS) -> optuna.storages.RDBStorage:
    """An RDB storage with heartbeats; sqlite waits for a busy database instead of failing when workers share it.

    Every worker's ``study.optimize`` fails the RUNNING trials whose heartbeat stopped ``grace_seconds`` ago (a
    killed worker's) and queues their params again. Workers started together on a new database race to create its
    tables; the loser sees an ``OperationalError``/``IntegrityError`` (PostgreSQL: ``ProgrammingError``, "relation
    alembic_version already exists", seen in CI) and opens the tables the winner made.
    """
    engine_kwargs = {"connect_args": {"timeout": 120}} if url.startswith("sqlite") else {}
    for attempt in range(1, attempts + 1):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(url, engine_kwargs=engine_kwargs,
                                                  heartbeat_interval=heartbeat_seconds, grace_period=grace_seconds,
                                                  heartbeat_stale_trial_callback=retry_trial)
        except (OperationalError, IntegrityError, ProgrammingError) as error:
            if attempt == attempts:
                raise CompError(f"cannot open the Optuna storage {url}: {error}".splitlines()[0]) from error
            time.sleep(0.5 * attempt)
        except Exception as error:  # SQLAlchemy raises many kinds; all mean the URL is unusable
            raise CompError(f"cannot open the Optuna storage {url}: {error}".splitlines()[0]) from error


def open_study(*, storage: optuna.storages.BaseStorage, name: str, direction: str, seed: int) -> optuna.Study:
    """Create or load a study with a seeded TPE sampler and a median pruner acting after each fold."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.create_study(
        storage=storage,
        study_name=name,
        direction=direction,
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        load_if_exists=True,
    )


def requeue_interrupted(study: optuna.Study, worker: str) -> int:
    """Fail this worker's trials left RUNNING by its killed process and queue their params again.

    The worker resuming knows its previous process is dead, so it does not wait for the heartbeat's grace period.
    """
    requeued = 0
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if trial.user_attrs.get("worker") != worker:
            continue
        try:
            failed = study.tell(trial.number, state=TrialState.FAIL)
        except (ValueError, optuna.exceptions.UpdateFinishedTrialError):
            continue  # another worker failed it as stale at the same moment, and queued it again
        retry_trial(study, failed)
        requeued += 1
    if requeued:
        logger.info("%s: retrying %d trial(s) interrupted by a crash", study.study_name, requeued)
    return requeued


def tune(
    spec: ModelSpec,
    *,
    competition: Competition,
    runner: FoldRunner,
    study: optuna.Study,
    n_trials: int,
    timeout_seconds: float | None,
    worker: str,
    on_trial=None,
) -> dict:
    """Run trials until the study holds ``n_trials`` finished ones (or time runs out); return the best params."""
    requeue_interrupted(study, worker)
    if not study.get_trials(deepcopy=False):
        study.enqueue_trial(spec.default_params())

    def objective(trial: optuna.Trial) -> float:
        trial.set_user_attr("worker", worker)  # first: a retried trial arrives with the dead worker's name
        params = competition.search_space(spec, trial)
        trial.set_user_attr("params", params)
        started = time.perf_counter()
        folds_done = 0

        def report(fold: int, running_score: float) -> None:
            nonlocal folds_done
            folds_done = fold + 1
            trial.report(running_score, fold)
            if trial.should_prune():
                raise optuna.TrialPruned(f"fold {fold}: running score {running_score:.5f}")

        def report_epoch_loss(epoch: int, loss: float) -> bool:
            # steps apart from the fold steps (0..k-1); the loss signed so that larger is better when maximising
            trial.report(-loss if study.direction == optuna.study.StudyDirection.MAXIMIZE else loss,
                         EPOCH_STEPS * (folds_done + 1) + epoch)
            return trial.should_prune()

        try:
            result = runner.cross_validate(spec, params, after_fold=report, epoch_reporter=report_epoch_loss)
        except TrialPruned as pruned:  # a network stopped by its per-epoch report (FitContext.raise_if_pruned)
            raise optuna.TrialPruned(str(pruned)) from pruned
        trial.set_user_attr("fold_scores", result.fold_scores)
        trial.set_user_attr("seconds", time.perf_counter() - started)
        return result.score

    finished = len(study.get_trials(deepcopy=False, states=FINISHED))
    remaining = max(0, n_trials - finished)
    if remaining:
        with progress_bar(total=remaining, desc=f"{spec.name} trials", unit="trial", log_interval=0) as bar:
            def log_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
                value = "pruned" if trial.state == TrialState.PRUNED else f"{trial.value:.5f}"
                logger.info("%s trial %d: %s %s", spec.name, trial.number, value, trial.user_attrs.get("params"))
                if any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
                    bar.set_postfix_str(f"best {study.best_value:.5f}")
                bar.update(1)
                if on_trial is not None:
                    on_trial(trial)

            deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
            while remaining > 0 and (deadline is None or time.monotonic() < deadline):
                try:
                    study.optimize(
                        objective,
                        n_trials=remaining,
                        timeout=None if deadline is None else deadline - time.monotonic(),
                        callbacks=[MaxTrialsCallback(n_trials, states=FINISHED), log_trial],
                        gc_after_trial=False,
                    )
                    break
                except ValueError as error:
                    # SQLite has no row locks: two workers can both take one queued trial; the second to
                    # finish it is refused ("Cannot tell a COMPLETE trial") and simply carries on.
                    if not str(error).startswith("Cannot tell a"):
                        raise
                    logger.info("%s: %s (another worker finished it first); continuing", spec.name, error)
                remaining = max(0, n_trials - len(study.get_trials(deepcopy=False, states=FINISHED)))
    completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not completed:
        raise CompError(f"no trial of {spec.name} completed; raise --trials or --time-budget")
    return study.best_trial.user_attrs["params"]
