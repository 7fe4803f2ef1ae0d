"""How a segmentation network is trained on a fold's tiles: one phase for a network from scratch, or a warm-up with
the pretrained encoder frozen and then fine-tuning of the whole network at a lower learning rate.

Freezing sets the nested encoder's ``trainable`` to False, which in Keras 3 also runs its batch-norm layers in
inference mode (their moving statistics stay as pretrained), so the randomly initialised decoder cannot wreck the
ImageNet features with large early gradients. Each phase is compiled afresh with Adam on a cosine schedule over its
own steps; the second phase draws new batches (``TileBatches.first_batch``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from comp._lazy import lazy_import
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
    model.compile(optimizer=keras.optimizers.Adam(schedule),
                  loss=segmentation_loss(str(params.get("loss", "crossentropy")), float(params.get("dice_weight", 1.0))))


def fit_network(model, sampler: TileSampler, params: dict, *, name: str, seed: int, encoder=None) -> dict:
    """Train ``model`` on ``sampler``'s tiles through ``training_phases``; ``encoder`` (a nested model of it) is frozen
    in the warm-up. Returns the per-epoch history of all phases together (JSON-ready floats)."""
    steps, batch_size = int(params["steps_per_epoch"]), int(params["batch_size"])
    history: dict[str, list[float]] = {}
    first_batch = 0
    for phase in training_phases(params, encoder is not None):
        if encoder is not None:
            encoder.trainable = not phase.encoder_frozen
        compile_network(model, params, phase.learning_rate, phase.epochs * steps)
        batches = tile_batches.TileBatches(sampler, batch_size=batch_size, first_batch=first_batch)
        fitted = model.fit(batches, epochs=phase.epochs, steps_per_epoch=steps, verbose=0, shuffle=False,
                           callbacks=[epoch_logger(name, seed, epochs=phase.epochs, log=logger)])
        for key, values in history_floats(fitted.history).items():
            history.setdefault(key, []).extend(values)
        first_batch += phase.epochs * steps
    if encoder is not None:
        encoder.trainable = True
    return history
