"""How a segmentation network is trained on a fold's tiles: one phase for a network from scratch, or a warm-up with
the pretrained encoder frozen and then fine-tuning of the whole network at a lower learning rate.

Freezing sets the nested encoder's ``trainable`` to False, which in Keras 3 also runs its batch-norm layers in
inference mode (their moving statistics stay as pretrained), so the randomly initialised decoder cannot wreck the
ImageNet features with large early gradients. Each phase is compiled afresh with Adam on a cosine schedule over its
own steps; the second phase draws new batches (``TileBatches.first_batch``).

Under ``--time-budget`` a fit first trains one epoch and times it, then plans as many epochs as the fit's seconds
allow (the warm-up shortened in proportion), so its cosine schedules still run to their end; a fit whose later epochs
turn out slower (the fine-tuning phase back-propagates through the encoder) stops before an epoch that would overrun.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace

from comp._lazy import lazy_import
from comp.compiling import compile_model
from comp.vision import epoch_logger, history_floats
from competitions.pathology.augment import TileSampler
from competitions.pathology.models import segmentation_loss

keras = lazy_import("keras")
tile_batches = lazy_import("competitions.pathology.batches")  # imports Keras

logger = logging.getLogger("comp.pathology")


@dataclass(frozen=True)
class Phase:
    """``epochs`` epochs at ``learning_rate`` (cosine-decayed over them), the encoder frozen or trainable."""

    epochs: int
    learning_rate: float
    encoder_frozen: bool


def training_phases(params: dict, has_encoder: bool) -> list[Phase]:
    """The phases of ``params``: ``warmup_epochs`` (default 0; at most ``epochs``, so ``--epochs`` may cut it short)
    frozen at ``learning_rate``, then the rest of ``epochs`` at ``learning_rate`` x ``fine_tune_rate`` (default 0.1);
    one phase for a network without encoder."""
    epochs, rate = int(params["epochs"]), float(params["learning_rate"])
    warmup = min(epochs, int(params.get("warmup_epochs", 0))) if has_encoder else 0
    if warmup < 0:
        raise ValueError(f"warmup_epochs must be at least 0, got {warmup}")
    if warmup == 0:
        return [Phase(epochs, rate, False)]
    fine_tune = Phase(epochs - warmup, rate * float(params.get("fine_tune_rate", 0.1)), False)
    return [Phase(warmup, rate, True)] + ([fine_tune] if fine_tune.epochs else [])


def compile_network(model, params: dict, learning_rate: float, steps: int) -> None:
    """Compile ``model`` with Adam on a cosine schedule over ``steps`` and the loss ``params`` names."""
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, max(1, steps), alpha=0.05)
    compile_model(model, optimizer=keras.optimizers.Adam(schedule),
                  loss=segmentation_loss(str(params.get("loss", "crossentropy")), float(params.get("dice_weight", 1.0))))


def budgeted_params(params: dict, epoch_seconds: float, seconds_allowed: float) -> dict:
    """``params`` with as many ``epochs`` (at least 1, at most planned) as ``seconds_allowed`` holds at
    ``epoch_seconds`` each, and ``warmup_epochs`` shortened in the same proportion (at least 1 when planned)."""
    planned = int(params["epochs"])
    epochs = max(1, min(planned, int(seconds_allowed // max(epoch_seconds, 1e-9))))
    budgeted = {**params, "epochs": epochs}
    if int(params.get("warmup_epochs", 0)) > 0:
        budgeted["warmup_epochs"] = max(1, round(int(params["warmup_epochs"]) * epochs / planned))
    return budgeted


def deadline_callback(started: float, seconds_allowed: float):
    """A Keras callback that ends training after an epoch when another epoch as long as the last would pass
    ``seconds_allowed`` counted from ``started`` (``time.perf_counter()``)."""

    class StopBeforeOverrun(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            now = time.perf_counter()
            if now - started + (now - self.epoch_started) > seconds_allowed:
                self.model.stop_training = True

    return StopBeforeOverrun()


def fit_network(model, sampler: TileSampler, params: dict, *, name: str, seed: int, encoder=None,
                seconds_allowed: float | None = None) -> dict:
    """Train ``model`` on ``sampler``'s tiles through ``training_phases``; ``encoder`` (a nested model of it) is frozen
    in the warm-up; ``seconds_allowed`` (None: no limit) plans the epochs from the first one's time. Returns the
    per-epoch history of all phases together (JSON-ready floats)."""
    steps = int(params["steps_per_epoch"])
    history: dict[str, list[float]] = {}
    started, first_batch = time.perf_counter(), 0
    phases = training_phases(params, encoder is not None)
    if seconds_allowed is not None:
        first_batch, _ = run_phase(model, sampler, replace(phases[0], epochs=1), params, history, name=name,
                                   seed=seed, encoder=encoder, first_batch=0, planned_steps=phases[0].epochs * steps)
        phases = training_phases(budgeted_params(params, time.perf_counter() - started, seconds_allowed),
                                 encoder is not None)
        phases = [replace(phases[0], epochs=phases[0].epochs - 1)] + phases[1:]
    for phase in phases:
        if not phase.epochs:
            continue
        deadline = [deadline_callback(started, seconds_allowed)] if seconds_allowed else []
        first_batch, cut_short = run_phase(model, sampler, phase, params, history, name=name, seed=seed,
                                           encoder=encoder, first_batch=first_batch, callbacks=deadline)
        if cut_short:
            break
    if encoder is not None:
        encoder.trainable = True
    return history


def run_phase(model, sampler: TileSampler, phase: Phase, params: dict, history: dict, *, name: str, seed: int,
              encoder, first_batch: int, planned_steps: int | None = None, callbacks=()) -> tuple[int, bool]:
    """Train ``phase`` from batch ``first_batch`` (its cosine over ``planned_steps``, default the phase's own steps),
    appending its epochs to ``history``; returns (the next batch index, whether a callback cut the phase short)."""
    steps, batch_size = int(params["steps_per_epoch"]), int(params["batch_size"])
    if encoder is not None:
        encoder.trainable = not phase.encoder_frozen
    compile_network(model, params, phase.learning_rate, planned_steps or phase.epochs * steps)
    batches = tile_batches.TileBatches(sampler, batch_size=batch_size, first_batch=first_batch)
    fitted = model.fit(batches, epochs=phase.epochs, steps_per_epoch=steps, verbose=0, shuffle=False,
                       callbacks=[epoch_logger(name, seed, epochs=phase.epochs, log=logger), *callbacks])
    for key, values in history_floats(fitted.history).items():
        history.setdefault(key, []).extend(values)
    epochs_done = len(fitted.history.get("loss", []))
    return first_batch + epochs_done * steps, epochs_done < phase.epochs
