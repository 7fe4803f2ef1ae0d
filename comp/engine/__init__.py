"""The task-agnostic training engine: k-fold fitting with a per-fold cache, Optuna tuning, the ``train`` loop
that reads, folds, fits, fuses and writes the submission, the reading of a finished run's final candidate, and its
default application to new data (``comp predict``)."""

from comp.engine._final import FinalCandidate, read_final
from comp.engine._fold_runner import (
           CrossValidation,
           FoldRunner,
           check_fold_result,
           params_key,
           saved_fold_models,
)
from comp.engine._predict import predict_final, predict_new_data
from comp.engine._training import (
           default_cache_dir,
           load_or_make_folds,
           seed_everything,
           train,
)
from comp.engine._tuning import open_storage, open_study, tune

__all__ = ["CrossValidation", "FinalCandidate", "FoldRunner", "check_fold_result", "default_cache_dir",
           "load_or_make_folds", "open_storage", "open_study", "params_key", "predict_final", "predict_new_data",
           "read_final", "saved_fold_models", "seed_everything", "train", "tune"]
