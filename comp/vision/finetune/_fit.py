"""One fold's two-phase fine-tuning: the head alone on the frozen backbone, then the backbone's top blocks too at a
lower, scheduled rate; early stopping on the inner split's loss, the best weights kept, a checkpoint after every
epoch (a killed fit resumes there), pruning through the callbacks the spec passes, and an optional time limit."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

import numpy as np

from comp._lazy import lazy_import
from comp.vision._callbacks import scheduled_rate
from comp.vision.finetune._augment import Augmenter
from comp.vision.finetune._checkpoint import Checkpoint, FitState
from comp.vision.finetune._inputs import decoded_training_images, labelled_batches, training_batches
from comp.vision.finetune._network import network_targets, prepare_phase

keras = lazy_import("keras")
logger = logging.getLogger("comp.finetune")


@dataclass(frozen=True)
class FitPlan:
    """The epochs, rates and schedule of both phases; ``patience`` epochs without a better inner-split loss end a
    phase (0: never); ``seconds_allowed`` (None: no limit) ends the fit before an epoch that would overrun it;
    ``label_smoothing`` softens classification targets in both phases (the inner split's loss is smoothed too);
    ``mixup`` > 0 blends training images and targets in pairs (the Beta distribution's alpha; 0: none)."""
    head_epochs: int
    epochs: int
    head_learning_rate: float
    learning_rate: float
    unfreeze: str | int
    schedule: str
    warmup: float
    patience: int
    batch_size: int
    seconds_allowed: float | None = None
    label_smoothing: float = 0.0
    mixup: float = 0.0


def epoch_book(state: FitState, checkpoint: Checkpoint, schedule):
    """A callback that after each epoch puts its logs into the fit state, keeps the best weights and writes the
    checkpoint (before any callback after it can stop or kill the fit)."""
    timing = {"epoch_started": time.perf_counter(), "seconds": state.seconds}

    def begin(epoch, logs=None):
        timing["epoch_started"] = time.perf_counter()

    def end(epoch, logs=None):
        state.phase_steps = schedule.steps_done
        state.phase_seconds = schedule.seconds()
        timing["seconds"] += time.perf_counter() - timing["epoch_started"]
        improved = state.record(logs or {}, timing["seconds"])
        checkpoint.save(state, schedule.model, improved=improved)

    return keras.callbacks.LambdaCallback(on_epoch_begin=begin, on_epoch_end=end)


def fine_tune(model, *, plan: FitPlan, task: str, training: tuple[list[str], np.ndarray],
              validation: tuple[list[str], np.ndarray], augmenter: Augmenter, seed: int, checkpoint: Checkpoint,
              callbacks: list, stopped, jit_compile: bool = False, workers: int | None = None) -> dict:
    """Train ``model`` (from ``build_network``) in place on ``training`` (paths, targets (n,) or (n, K)) with early
    stopping on ``validation``, resuming from ``checkpoint`` when it holds a state; end with the best weights. Stops
    early when ``stopped()`` (e.g. a pruned trial) says so after an epoch. Returns the per-epoch history."""
    paths, targets = training
    rows, images = decoded_training_images(paths, augmenter.size, workers=workers)
    if len(rows) < len(paths):
        logger.warning("%d of %d training images could not be decoded and are left out of this fit",
                       len(paths) - len(rows), len(paths))
    n_outputs = int(model.output_shape[-1])
    targets = network_targets(task, targets[rows], n_outputs)
    state = checkpoint.load()
    resuming = state is not None
    state = state or FitState()
    if resuming:
        logger.info("resuming fine-tuning at epoch %d (phase %d)", state.epoch + 1, state.phase)
    valid = (labelled_batches(validation[0], network_targets(task, validation[1], n_outputs), augmenter.size,
                              batch_size=plan.batch_size) if len(validation[0]) else None)
    steps = math.ceil(len(images) / plan.batch_size)
    phases = ((1, plan.head_epochs, plan.head_learning_rate, "constant"),
              (2, plan.epochs, plan.learning_rate, plan.schedule))
    for phase, epochs, rate, schedule_name in phases:
        if state.phase > phase:
            continue
        prepare_phase(model, phase=phase, unfreeze=plan.unfreeze, learning_rate=rate, task=task,
                      jit_compile=jit_compile, label_smoothing=plan.label_smoothing)
        if resuming:
            checkpoint.restore(model, optimizer=state.phase_epochs > 0)
            resuming = False
        spent_before = state.seconds - state.phase_seconds
        schedule = scheduled_rate(schedule=schedule_name, base=rate, warmup=plan.warmup, planned_steps=epochs * steps,
                                 seconds_allowed=plan.seconds_allowed - spent_before if plan.seconds_allowed else None,
                                 steps_done=state.phase_steps, seconds_done=state.phase_seconds)
        book = epoch_book(state, checkpoint, schedule)
        patient = not plan.patience or state.waited < plan.patience  # patience 0: no early stopping
        while state.phase_epochs < epochs and patient and not out_of_time(state, plan):
            batches = training_batches(images, targets, seed=seed, epoch=state.epoch, batch_size=plan.batch_size,
                                       augmenter=augmenter, workers=workers, mixup=plan.mixup)
            model.fit(batches, initial_epoch=state.epoch, epochs=state.epoch + 1, validation_data=valid,
                      callbacks=[schedule, book, *callbacks], shuffle=False, verbose=0)
            if stopped():
                return state.history
            patient = not plan.patience or state.waited < plan.patience
        if checkpoint.best_weights is not None:
            model.set_weights(checkpoint.best_weights)
        state.next_phase()
        checkpoint.save(state, model, improved=False)
    if resuming:  # the checkpoint of a fit that had finished: its final (best) weights
        checkpoint.restore(model, optimizer=False)
    return state.history


def out_of_time(state: FitState, plan: FitPlan) -> bool:
    """Whether one more epoch (as long as the mean one so far) would overrun the plan's seconds."""
    if not plan.seconds_allowed or state.epoch == 0:
        return False
    return state.seconds + state.seconds / state.epoch > plan.seconds_allowed
