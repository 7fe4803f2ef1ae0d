"""Compiling a Keras model so that its first ``fit`` traces the training step once, not twice.

Keras 3.15 without a distribution strategy creates the optimizer's slots inside the first trace of the training
step, and TensorFlow then traces the step a second time. Building the optimizer at compile time avoids it, with the
same weights and scores: a tiny CRNN's first fit of two steps took 29.2 s instead of 47.9 s (``nice -n 19`` beside a
training run), ``comp demo --train`` 566.1 s instead of 645.8 and the CI's tests 1,428 s instead of 1,693
(2026-11-27, 2 CPU cores): every fold, trial and phase pays that trace.
"""

from __future__ import annotations


def compile_model(model, *, optimizer, loss, **options):
    """``model.compile(optimizer=optimizer, loss=loss, **options)``, then the optimizer built over the model's
    trainable weights (what trains is set before this call, as for compiling); returns ``model``."""
    model.compile(optimizer=optimizer, loss=loss, **options)
    model.optimizer.build(model.trainable_variables)
    return model
