"""Keras pieces every network of a competition shares: an epoch logger, the per-epoch pruning hook, the learning
rate set per batch from the share of training done (with an optional deadline), the history as JSON floats, and the
policy for images that cannot be decoded."""

from __future__ import annotations

import logging
import os
import time

import numpy as np

from comp._lazy import lazy_import
from comp.contract import Dataset, FitContext
from comp.errors import CompError
from comp.schedules import learning_rate_at

keras = lazy_import("keras")
logger = logging.getLogger("comp.train")


def epoch_logger(name: str, seed: int, *, epochs: int | None = None, minutes: float | None = None,
                 log: logging.Logger = logger):
    """A callback logging each epoch's losses and accuracies, so a long fit shows its progress.

    A fit ended by a deadline (``minutes``) shows the minutes trained (its ``elapsed_s`` log) instead of the epochs.
    """

    def report(epoch, logs):
        logs = logs or {}
        values = " ".join(f"{key} {value:.4f}" for key, value in logs.items() if "loss" in key or "accuracy" in key)
        done = f"{logs.get('elapsed_s', 0) / 60:.1f}/{minutes:.1f} min" if minutes else f"{epoch + 1}/{epochs}"
        log.info("%s (seed %d) epoch %d (%s): %s", name, seed, epoch + 1, done, values)

    return keras.callbacks.LambdaCallback(on_epoch_end=report)


def prune_on_validation_loss(context: FitContext):
    """A callback passing each epoch's ``val_loss`` to the tuner through ``context``; it stops the fit when the trial
    should end, so the spec calls ``context.raise_if_pruned`` once Keras has cleaned up."""

    class PruneOnValidationLoss(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if logs and "val_loss" in logs and context.report_epoch(epoch, float(logs["val_loss"])):
                self.model.stop_training = True

    return PruneOnValidationLoss()


def scheduled_rate(*, schedule: str, base: float, warmup: float, planned_steps: int, seconds_allowed: float | None,
                   steps_done: int = 0, seconds_done: float = 0.0, stop_at_deadline: bool = False):
    """A callback setting the optimizer's rate before every batch from ``comp.schedules.learning_rate_at`` at the
    share of training done: the larger of steps over ``planned_steps`` and training seconds over ``seconds_allowed``
    (None: steps only), so a fit cut short by --time-budget still runs through its schedule. ``steps_done`` and
    ``seconds_done`` carry a resumed fit's progress; with ``stop_at_deadline`` it ends the fit when the seconds are
    spent. Its ``steps_done`` and ``seconds()`` are the progress so far (what a checkpoint saves)."""

    class ScheduledRate(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps_done, self.seconds_done = steps_done, seconds_done
            self.started = time.perf_counter()

        def seconds(self) -> float:
            return self.seconds_done + time.perf_counter() - self.started

        def share_done(self) -> float:
            by_steps = self.steps_done / max(1, planned_steps)
            by_time = self.seconds() / seconds_allowed if seconds_allowed else 0.0
            return min(1.0, max(by_steps, by_time))

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds_done, self.started = self.seconds(), time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate.assign(learning_rate_at(schedule, base, self.share_done(),
                                                                       warmup=warmup))

        def on_train_batch_end(self, batch, logs=None):
            self.steps_done += 1
            if stop_at_deadline and seconds_allowed and self.seconds() >= seconds_allowed:
                self.model.stop_training = True

    return ScheduledRate()


def history_floats(history: dict) -> dict[str, list[float]]:
    """A Keras ``History.history`` as plain floats, ready for JSON."""
    return {key: [float(value) for value in values] for key, values in history.items()}


def drop_unreadable_training_rows(dataset: Dataset, bad_paths: list[str]) -> np.ndarray:
    """Remove the training rows whose image could not be decoded (recorded in ``dataset.dropped``); return the mask
    of kept rows over the old table, shape (n_rows,). No training image left is a one-line error."""
    keep = ~dataset.train["path"].astype(str).isin(set(map(str, bad_paths))).to_numpy()
    if not keep.all():
        dataset.dropped.extend(bad_paths)
        dataset.keep_train_rows(keep)
    if len(dataset.train) == 0:
        raise CompError(f"no training image in {dataset.data_dir} could be decoded")
    return keep


def path_listing(paths: list[str], limit: int = 160) -> str:
    """Files for a one-line message: their paths when that is short, else ``a.jpg, b.jpg in DIR/`` when they share a
    folder, each cut to about ``limit`` characters with the count of the files left out."""
    paths = [str(path) for path in paths]
    folders = {os.path.dirname(path) for path in paths}
    names, suffix = (paths, "") if len(", ".join(paths)) <= limit or len(folders) > 1 else \
        ([os.path.basename(path) for path in paths], f" in {folders.pop()}/")
    shown = []
    for name in names:
        if shown and len(", ".join([*shown, name])) > limit:
            break
        shown.append(name)
    more = f" (+{len(names) - len(shown)} more)" if len(shown) < len(names) else ""
    return ", ".join(shown) + more + suffix


def check_unreadable_test(bad_paths: list[str], config: dict, *, remedy: str) -> None:
    """Stop on undecodable test images unless --allow-bad-test, which does ``remedy`` (e.g. "predict them from the
    mean features"); list them either way."""
    if not bad_paths:
        return
    listing = path_listing(bad_paths)
    if not config.get("allow_bad_test"):
        raise CompError(f"{len(bad_paths)} test image(s) cannot be decoded: {listing} "
                        f"(fix them, or pass --allow-bad-test to {remedy})")
    logger.warning("%d unreadable test image(s) (--allow-bad-test: %s): %s", len(bad_paths), remedy,
                   ", ".join(map(str, bad_paths)))  # the log names every one
