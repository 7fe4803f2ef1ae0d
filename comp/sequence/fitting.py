"""Fitting a CTC network on endless batches (imports Keras; plugins load it with ``comp._lazy.lazy_import``): the
learning rate set per batch from the progress and a deadline (``comp.vision.scheduled_rate``), the held-out accuracy against time after every epoch, the
per-epoch pruning hook of a tuned trial."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import keras
import numpy as np

from comp.contract import FitContext
from comp.sequence._characters import CharacterTable
from comp.vision import epoch_logger, history_floats, prune_on_validation_loss, scheduled_rate

WARMUP = 0.03  # share of training the cosine and step schedules warm up in
UNTIL_DEADLINE = 1_000_000  # epochs of a fit with a time limit: the deadline, not the count, ends it


class AccuracyClock(keras.callbacks.Callback):
    """Adds, after each epoch, the held-out sequence accuracy (``val_sequence_accuracy``, the share of ``texts`` that
    ``read(model, images)`` gets exactly right) and the seconds since training began (``elapsed_s``) to the fit's
    history: the accuracy-against-time curve."""

    def __init__(self, images: np.ndarray, texts: np.ndarray, read: Callable[[keras.Model, np.ndarray], np.ndarray]):
        super().__init__()
        self.images, self.texts, self.read = images, np.asarray(texts, dtype=str), read
        self.started = time.perf_counter()

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        if logs is None:
            return
        if len(self.images):
            logs["val_sequence_accuracy"] = float(np.mean(self.read(self.model, self.images).astype(str) == self.texts))
        logs["elapsed_s"] = time.perf_counter() - self.started


def fit_ctc(model: keras.Model, batches, *, name: str, context: FitContext, table: CharacterTable, params: dict,
            steps_per_epoch: int, epochs: int, time_limit: float | None, watched_images: np.ndarray,
            watched_texts: np.ndarray, read: Callable[[keras.Model, np.ndarray], np.ndarray], predict_batch: int,
            log: logging.Logger) -> dict:
    """Fit ``model`` (compiled) on the endless ``batches`` and return its history as JSON floats, with the steps,
    training seconds and images/s.

    Under a ``time_limit`` (seconds) the fit trains until the deadline, its schedule (``params``: schedule,
    learning_rate, batch_size) run by the clock; else ``epochs`` of ``steps_per_epoch``. The watched held-out images
    give the validation CTC loss (the pruning hook of a tuned trial) and the accuracy against time. A pruned trial
    raises TrialPruned once Keras has cleaned up.
    """
    epochs = UNTIL_DEADLINE if time_limit else epochs
    schedule = scheduled_rate(schedule=params["schedule"], base=float(params["learning_rate"]), warmup=WARMUP,
                              planned_steps=epochs * steps_per_epoch, seconds_allowed=time_limit,
                              stop_at_deadline=True)
    validation = (watched_images, table.encode(watched_texts)) if len(watched_texts) else None
    minutes = time_limit / 60 if time_limit else None
    callbacks = [schedule, AccuracyClock(watched_images, watched_texts, read),
                 epoch_logger(name, context.seed, epochs=epochs, minutes=minutes, log=log)]
    if validation is not None:
        callbacks.append(prune_on_validation_loss(context))
    started = time.perf_counter()
    fitted = model.fit(batches, epochs=epochs, steps_per_epoch=steps_per_epoch, validation_data=validation,
                       validation_batch_size=predict_batch, shuffle=False, callbacks=callbacks, verbose=0)
    seconds = time.perf_counter() - started
    context.raise_if_pruned(f"{name}: validation CTC loss")
    history = history_floats(fitted.history)
    history.update(steps=schedule.steps_done, train_seconds=round(seconds, 2),
                   train_images_per_s=round(schedule.steps_done * int(params["batch_size"]) / max(seconds, 1e-9), 1))
    return history
