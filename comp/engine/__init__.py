"""The task-agnostic training engine: k-fold fitting with a per-fold cache, Optuna tuning, and the ``train`` loop
that reads, folds, fits, fuses and writes the submission."""

from comp.engine._fold_runner import CrossValidation, FoldRunner, check_fold_result, fold_seed, params_key
from comp.engine._training import load_or_make_folds, seed_everything, train
from comp.engine._tuning import open_storage, open_study, tune

__all__ = ["CrossValidation", "FoldRunner", "check_fold_result", "fold_seed", "load_or_make_folds", "open_storage",
           "open_study", "params_key", "seed_everything", "train", "tune"]
