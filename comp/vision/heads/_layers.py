"""Serialisable Keras layers of exported pipelines: a test-time view (``comp.vision.views``), clipping, logit and
log-probability, a blend weight, the per-label stacker, and the post-processing steps of ``comp.fusion`` (temperature,
thresholds, cut-points).

The classes are defined on first use (``custom_layers()``), so importing comp stays free of TensorFlow.
"""

from __future__ import annotations

import functools
from types import SimpleNamespace

from comp._lazy import lazy_import
from comp.fusion import LOGIT_MARGIN
from comp.vision.backbones import preprocessing_layer_class
from comp.vision.views import view_of

keras = lazy_import("keras")


@functools.cache
def custom_layers() -> SimpleNamespace:
    """comp's layer classes (``View``, ``Clip``, ``Logit``, ...), registered with Keras for loading."""
    ops = keras.ops

    @keras.saving.register_keras_serializable(package="comp")
    class View(keras.layers.Layer):
        """Images (N, H, W, C) seen in one test-time view, as feature extraction and fine-tuning see them."""

        def __init__(self, view: str, **kwargs):
            super().__init__(**kwargs)
            self.view = view

        def call(self, images):
            return view_of(images, self.view)

        def get_config(self):
            return {**super().get_config(), "view": self.view}

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

    @keras.saving.register_keras_serializable(package="comp")
    class LogProbability(Logit):
        """log(p) with p kept in [margin, 1], the multinomial stacker's input transform of class probabilities."""

        def call(self, probabilities):
            return ops.log(ops.clip(probabilities, self.margin, 1.0))

    @keras.saving.register_keras_serializable(package="comp")
    class LabelwiseStack(keras.layers.Layer):
        """The multi-label stacker: members' label logits, a list of (N, L) tensors, to
        sigmoid(sum_m logit_m * weights[m] + intercept), one weight per member and label."""

        def __init__(self, weights: list[list[float]], intercept: list[float], **kwargs):
            super().__init__(**kwargs)
            self.member_weights = [[float(value) for value in row] for row in weights]  # (members, labels)
            self.intercept = [float(value) for value in intercept]

        def call(self, logits):
            total = ops.convert_to_tensor(self.intercept, dtype=logits[0].dtype)
            for member_logits, weights in zip(logits, self.member_weights):
                total = total + member_logits * ops.convert_to_tensor(weights, dtype=member_logits.dtype)
            return ops.sigmoid(total)

        def get_config(self):
            return {**super().get_config(), "weights": self.member_weights, "intercept": self.intercept}

    @keras.saving.register_keras_serializable(package="comp")
    class Scaled(keras.layers.Layer):
        """Values times a fixed weight: one member's share of a blend, for outputs of any width."""

        def __init__(self, weight: float, **kwargs):
            super().__init__(**kwargs)
            self.weight = float(weight)

        def call(self, values):
            return values * self.weight

        def get_config(self):
            return {**super().get_config(), "weight": self.weight}

    @keras.saving.register_keras_serializable(package="comp")
    class Tempered(keras.layers.Layer):
        """Class probabilities (N, K) through temperature scaling and a probability floor (``comp.fusion``'s
        ``temperature`` post-processing): softmax(log p / T), raised to ``floor``, renormalised."""

        def __init__(self, temperature: float, floor: float, **kwargs):
            super().__init__(**kwargs)
            self.temperature, self.floor = float(temperature), float(floor)

        def call(self, probabilities):
            scaled = ops.softmax(ops.log(ops.clip(probabilities, 1e-15, 1.0)) / self.temperature, axis=-1)
            raised = ops.maximum(scaled, self.floor)
            return raised / ops.sum(raised, axis=-1, keepdims=True)

        def get_config(self):
            return {**super().get_config(), "temperature": self.temperature, "floor": self.floor}

    @keras.saving.register_keras_serializable(package="comp")
    class MovedToHalf(keras.layers.Layer):
        """Label probabilities (N, K) stretched so each label's fitted threshold lands on 0.5 (``thresholds``)."""

        def __init__(self, thresholds: list[float], **kwargs):
            super().__init__(**kwargs)
            self.thresholds = [float(value) for value in thresholds]

        def call(self, probabilities):
            thresholds = ops.convert_to_tensor(self.thresholds, dtype=probabilities.dtype)
            below = 0.5 * probabilities / thresholds
            above = 0.5 + 0.5 * (probabilities - thresholds) / (1.0 - thresholds)
            return ops.where(probabilities < thresholds, below, above)

        def get_config(self):
            return {**super().get_config(), "thresholds": self.thresholds}

    @keras.saving.register_keras_serializable(package="comp")
    class Graded(keras.layers.Layer):
        """Values (N, 1) to grades: the lowest grade plus the number of fitted cut-points passed (``cutpoints``)."""

        def __init__(self, cutpoints: list[float], lowest_grade: int, **kwargs):
            super().__init__(**kwargs)
            self.cutpoints, self.lowest_grade = sorted(float(value) for value in cutpoints), int(lowest_grade)

        def call(self, values):
            cuts = ops.convert_to_tensor(self.cutpoints, dtype=values.dtype)
            passed = ops.sum(ops.cast(values >= cuts, values.dtype), axis=-1, keepdims=True)
            return passed + self.lowest_grade

        def get_config(self):
            return {**super().get_config(), "cutpoints": self.cutpoints, "lowest_grade": self.lowest_grade}

    return SimpleNamespace(View=View, Clip=Clip, Logit=Logit, LogProbability=LogProbability,
                           LabelwiseStack=LabelwiseStack, Scaled=Scaled, Tempered=Tempered, MovedToHalf=MovedToHalf,
                           Graded=Graded)


def register_custom_layers() -> None:
    """Make comp's own layers known to Keras, so ``keras.models.load_model`` reads a ``.keras`` export."""
    custom_layers()
    preprocessing_layer_class()
