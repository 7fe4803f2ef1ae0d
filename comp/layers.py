"""Serialisable Keras layers of exported pipelines: horizontal flip (the ``flip`` view), clipping and logit."""

from __future__ import annotations

import keras
from keras import ops

from comp.fusion import LOGIT_MARGIN


@keras.saving.register_keras_serializable(package="comp")
class HorizontalFlip(keras.layers.Layer):
    """Images (N, H, W, C) mirrored left to right, as the feature cache's ``flip`` view sees them."""

    def call(self, images):
        return ops.flip(images, axis=2)


@keras.saving.register_keras_serializable(package="comp")
class Clip(keras.layers.Layer):
    """Values clipped into [low, high], as a clipped candidate's probabilities are."""

    def __init__(self, low: float, high: float, **kwargs):
        super().__init__(**kwargs)
        self.low, self.high = float(low), float(high)

    def call(self, values):
        return ops.clip(values, self.low, self.high)

    def get_config(self):
        return {**super().get_config(), "low": self.low, "high": self.high}


@keras.saving.register_keras_serializable(package="comp")
class Logit(keras.layers.Layer):
    """log(p / (1 - p)) with p kept in [margin, 1 - margin], the stacker's input transform."""

    def __init__(self, margin: float = LOGIT_MARGIN, **kwargs):
        super().__init__(**kwargs)
        self.margin = float(margin)

    def call(self, probabilities):
        clipped = ops.clip(probabilities, self.margin, 1.0 - self.margin)
        return ops.log(clipped / (1.0 - clipped))

    def get_config(self):
        return {**super().get_config(), "margin": self.margin}
