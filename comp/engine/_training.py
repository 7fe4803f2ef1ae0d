"""``comp train``: read, fold, fit and tune every model spec, fuse on OOF, write the validated submission."""

from __future__ import annotations

import logging
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

from comp.contract import Competition, ModelSpec, TrainingContext
from comp.engine._fold_runner import FoldRunner, params_key
from comp.engine._tuning import open_storage, open_study, tune
from comp.errors import CompError
from comp.fusion import Candidate
from comp.io import Run, default_cache_dir

logger = logging.getLogger("comp.train")


def seed_everything(seed: int) -> None:
    """Fix the Python and NumPy seeds and make TensorFlow ops deterministic, so reruns score the same.

    TensorFlow is not imported for this (``TF_DETERMINISTIC_OPS`` is read when it first runs an op): a warm-cache
    run of scikit-learn heads never needs it. Every Keras fit seeds TensorFlow itself with its fold's seed.
    """
    random.seed(seed)
    np.random.seed(seed)
    os.environ["TF_DETERMINISTIC_OPS"] = "1"
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].config.experimental.enable_op_determinism()


def load_or_make_folds(run: Run, competition: Competition, dataset, config: dict) -> np.ndarray:
    """The run's saved fold of every training row, made (seeded) and saved on the first call."""
    ids = [str(value) for value in dataset.train["id"]]
    saved = run.read_json("folds.json", default={})
    if saved:
        if saved["ids"] != ids:
            raise CompError(f"{run.file('folds.json')} was made for other training data; start a new run")
        return np.asarray(saved["fold"], dtype=np.int64)
    fold_of_row = competition.folds(dataset, int(config["folds"]), int(config["seed"]))
    run.write_json("folds.json", {"n_folds": int(config["folds"]), "seed": int(config["seed"]),
                                  "ids": ids, "fold": fold_of_row.tolist()})
    return fold_of_row


def train(competition: Competition, config: dict, *, run: Run) -> dict:
    """Run the whole training stage into ``run`` and return its scores (also saved as scores.json)."""
    started = time.perf_counter()
    seed = int(config["seed"])
    seed_everything(seed)
    data_dir = Path(config["data"])
    dataset = competition.read(data_dir, config)
    if dataset.task is not None:  # the default fuse and the report follow the task the data declares
        competition.task = dataset.task
    context = TrainingContext(dataset=dataset, config=config, run=run,
                              cache_dir=default_cache_dir(config))
    specs = competition.models(context)  # may drop training rows whose images cannot be decoded
    if dataset.dropped:
        logger.warning("dropped %d unreadable training file(s): %s", len(dataset.dropped), ", ".join(dataset.dropped))
    fold_of_row = load_or_make_folds(run, competition, dataset, config)
    run.save_rows(dataset)
    labels = dataset.truth()
    runner = FoldRunner(fold_of_row=fold_of_row, labels=labels, metric=competition.metric,
                        cache_root=run.file("fold_cache"), seed=seed, n_test=len(dataset.test))
    storage = open_storage(config.get("storage") or f"sqlite:///{run.file('study.db').resolve()}",
                           **{key: int(config[key]) for key in ("heartbeat_seconds", "grace_seconds") if config.get(key)})
    def trials_of(spec: ModelSpec) -> int:
        return int(config["trials"] if spec.trials is None else spec.trials) if spec.tunable else 0

    tuned = [spec for spec in specs if trials_of(spec) > 0]
    budget = float(config["time_budget"]) * 60 if config.get("time_budget") else None
    scores = run.read_json("scores.json", default={}) or {"metric": competition.metric.name,
                                                          "direction": competition.metric.direction, "models": {}}
    if dataset.task is not None:  # what the predictions are, for the report, predict and export
        scores["task"] = {"kind": dataset.task.kind, "classes": list(dataset.task.classes)}
    models: list[Candidate] = []
    for spec in specs:
        if trials_of(spec) > 0:
            remaining_tuned = len(tuned) - tuned.index(spec)
            timeout = None
            if budget is not None:
                timeout = max(1.0, (budget - (time.perf_counter() - started)) / remaining_tuned)
            study = open_study(storage=storage, direction=competition.metric.direction, seed=seed,
                               name=f"{competition.name}.{spec.name}.k{fold_of_row.max() + 1}.s{seed}")
            params = tune(spec, competition=competition, runner=runner, study=study, n_trials=trials_of(spec),
                          timeout_seconds=timeout, worker=run.id)
            n_trials, study_name = len(study.trials), study.study_name
        else:
            params, n_trials, study_name = spec.default_params(), 0, None
        result = runner.cross_validate(spec, params)
        if dataset.task is not None:  # every model of a task predicts in the task's shape (columns too)
            dataset.task.check_prediction(result.oof, len(labels), f"{spec.name} OOF")
            dataset.task.check_prediction(result.test, len(dataset.test), f"{spec.name} test")
        run.save_predictions(spec.name, result.oof, result.test)
        models.append(Candidate(spec.name, result.oof, result.test, result.score, result.fold_scores))
        scores["models"][spec.name] = {"score": result.score, "fold_scores": result.fold_scores, "params": params,
                                       "params_key": params_key(params), "trials": n_trials, "study": study_name,
                                       "histories": result.histories, "reference": spec.reference,
                                       **spec.describe()}
        run.write_json("scores.json", scores)
        logger.info("%s: OOF %s %.5f (folds %s)", spec.name, competition.metric.name, result.score,
                    " ".join(f"{value:.4f}" for value in result.fold_scores))
    fused = competition.fuse_in_run(models, labels, fold_of_row, context)
    candidates = {candidate.name: candidate for candidate in models + fused}
    final = candidates[competition.metric.best({name: c.score for name, c in candidates.items()})]
    for candidate in fused:
        run.save_predictions(candidate.name, candidate.oof, candidate.test)
    scores["fusion"] = {c.name: {"score": c.score, "fold_scores": c.fold_scores, **c.details} for c in fused}
    scores["final"] = {"name": final.name, "score": final.score, **final.details}
    submission, copy = competition.write_submission(dataset, final.test, run=run,
                                                    submissions_root=Path(config["submissions_root"]))
    scores["submission"] = {"run": str(submission), "copy": str(copy)}
    scores["seconds"] = round(time.perf_counter() - started, 2)
    run.write_json("scores.json", scores)
    logger.info("final: %s OOF %s %.5f -> %s", final.name, competition.metric.name, final.score, copy)
    return scores
