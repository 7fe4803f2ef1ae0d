"""Serialisable Keras layers of exported pipelines: horizontal flip (the ``flip`` view), clipping and logit.

The classes are defined on first use (``custom_layers()``), so importing comp stays free of TensorFlow.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from comp._lazy import lazy_import
from comp.fusion import LOGIT_MARGIN
from comp.vision.backbones import preprocessing_layer_class

keras = lazy_import("keras")


@functools.cache
def custom_layers() -> SimpleNamespace:
    """The layer classes ``HorizontalFlip``, ``Clip`` and ``Logit``, registered with Keras for loading."""
    ops = keras.ops

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

    return SimpleNamespace(HorizontalFlip=HorizontalFlip, Clip=Clip, Logit=Logit)


def register_custom_layers() -> None:
    """Make comp's own layers known to Keras, so ``keras.models.load_model`` reads a ``.keras`` export."""
    custom_layers()
    preprocessing_layer_class()
