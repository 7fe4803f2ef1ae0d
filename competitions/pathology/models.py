"""The two segmentation networks: FCN-8s on a registry backbone and a small U-Net, both ending in a 2-class softmax.

FCN-8s (Long et al.): 1x1 score convolutions on the encoder's output and its two registry skip layers,
transposed-convolution upsampling (initialised bilinear) with skip additions, L2 on the decoder. Encoders with
valid padding (SqueezeNet) give maps that are a pixel off a clean multiple; those are centre-cropped or padded
to the skip they are added to, as the original FCN's crop layers do.
"""

from __future__ import annotations

import functools

import numpy as np

from comp._lazy import lazy_import
from comp.vision.backbones import get_backbone, resolve_weights

keras = lazy_import("keras")
layers = lazy_import("keras.layers")
ops = lazy_import("keras.ops")

NUM_CLASSES = 2


def bilinear_kernel(factor: int, channels: int) -> np.ndarray:
    """A (2f, 2f, channels, channels) transposed-convolution kernel that upsamples each channel bilinearly."""
    size = 2 * factor
    centre = factor - 0.5
    grid = 1 - np.abs(np.arange(size) - centre) / factor
    kernel = np.zeros((size, size, channels, channels), dtype=np.float32)
    for channel in range(channels):
        kernel[:, :, channel, channel] = np.outer(grid, grid)
    return kernel


@functools.cache
def edge_padding_class():
    """The Keras layer that pads a feature map by repeating its border (defined on first use, like backbones')."""

    @keras.saving.register_keras_serializable(package="comp_pathology")
    class MirrorPadding2D(keras.layers.Layer):
        """Pad (top, bottom), (left, right) pixels by mirroring the border (zeros would fake a 0.5 border)."""
        def __init__(self, padding, **kwargs):
            super().__init__(**kwargs)
            self.padding = tuple(tuple(int(value) for value in pair) for pair in padding)

        def call(self, tensor):
            return keras.ops.pad(tensor, ((0, 0), *self.padding, (0, 0)), mode="symmetric")

        def compute_output_shape(self, shape):
            (top, bottom), (left, right) = self.padding
            return (shape[0], None if shape[1] is None else shape[1] + top + bottom,
                    None if shape[2] is None else shape[2] + left + right, shape[3])

        def get_config(self):
            return {**super().get_config(), "padding": self.padding}

    return MirrorPadding2D


def match_size(tensor, height: int, width: int, name: str):
    """Centre-crop or mirror-pad a (N, h, w, C) Keras tensor to (height, width)."""
    current_height, current_width = tensor.shape[1], tensor.shape[2]
    if (current_height, current_width) == (height, width):
        return tensor
    crop_height, crop_width = max(0, current_height - height), max(0, current_width - width)
    if crop_height or crop_width:
        tensor = layers.Cropping2D(((crop_height // 2, crop_height - crop_height // 2),
                                    (crop_width // 2, crop_width - crop_width // 2)), name=f"{name}_crop")(tensor)
    pad_height, pad_width = max(0, height - tensor.shape[1]), max(0, width - tensor.shape[2])
    if pad_height or pad_width:
        tensor = edge_padding_class()(((pad_height // 2, pad_height - pad_height // 2),
                                       (pad_width // 2, pad_width - pad_width // 2)), name=f"{name}_pad")(tensor)
    return tensor


def upsample(tensor, factor: int, l2: float, name: str):
    """A transposed convolution of stride ``factor`` over the class scores, starting as bilinear interpolation."""
    if factor == 1:
        return tensor
    kernel = bilinear_kernel(factor, NUM_CLASSES)
    return layers.Conv2DTranspose(NUM_CLASSES, 2 * factor, strides=factor, padding="same", use_bias=False,
                                  kernel_initializer=keras.initializers.Constant(kernel),
                                  kernel_regularizer=keras.regularizers.L2(l2) if l2 else None, name=name)(tensor)


def encoder_weights(backbone: str, config: dict) -> str:
    """Where a registry encoder's weights come from: the config's ``weights`` table (``--weights``), else ImageNet."""
    return (config.get("weights") or {}).get(backbone, "imagenet")


def check_encoder_weights(recipes: dict, config: dict) -> None:
    """Resolve the encoder weights of every recipe on a registry encoder (FCN-8s, the encoder U-Net) now, so a
    missing file stops the run before any fit."""
    for recipe in recipes.values():
        if recipe.builds in ("fcn8s", "unet_encoder"):
            backbone = str(recipe.params["backbone"])
            resolve_weights(get_backbone(backbone), encoder_weights(backbone, config))


def build_fcn8s(backbone: str, *, tile: int, l2: float = 1e-6, weights: str | None = "imagenet", seed: int = 0):
    """FCN-8s for (tile, tile) RGB 0..255 input: encoder from the backbone registry, 2-class softmax output."""
    spec = get_backbone(backbone)
    encoder = spec.build(resolve_weights(spec, weights, seed=seed), input_size=(tile, tile))
    feature_model = keras.Model(encoder.input, [encoder.get_layer(spec.skip_layers[0]).output,
                                                encoder.get_layer(spec.skip_layers[1]).output, encoder.output],
                                name=f"{backbone}_encoder")
    inputs = keras.Input((tile, tile, 3), name="image")
    shallow, middle, deep = feature_model(spec.preprocessing_layer()(inputs))
    regulariser = keras.regularizers.L2(l2) if l2 else None

    def score(tensor, name):
        # zero-initialised as in FCN: the untrained decoder predicts 0.5 everywhere, not huge random logits
        return layers.Conv2D(NUM_CLASSES, 1, kernel_initializer="zeros", kernel_regularizer=regulariser,
                             name=name)(tensor)

    scores = score(deep, "score_deep")
    for skip, name in ((middle, "middle"), (shallow, "shallow")):
        factor = max(1, round(skip.shape[1] / scores.shape[1]))
        scores = upsample(scores, factor, l2, f"up_to_{name}")
        scores = match_size(scores, skip.shape[1], skip.shape[2], f"align_{name}")
        scores = layers.Add(name=f"fuse_{name}")([scores, score(skip, f"score_{name}")])
    factor = max(1, round(tile / scores.shape[1]))
    scores = match_size(upsample(scores, factor, l2, "up_to_image"), tile, tile, "align_image")
    outputs = layers.Softmax(name="probabilities")(scores)
    return keras.Model(inputs, outputs, name=f"fcn8s_{backbone}")


def build_unet(*, tile: int, widths: tuple[int, ...] = (16, 32, 64, 128), l2: float = 1e-6, dropout: float = 0.1):
    """A U-Net from scratch: two 3x3 conv+BN+ReLU per level, max-pool down, transposed conv up, skip concat."""
    if tile % (2 ** (len(widths) - 1)):
        raise ValueError(f"U-Net tile {tile} must be a multiple of {2 ** (len(widths) - 1)} for {len(widths)} levels")
    regulariser = keras.regularizers.L2(l2) if l2 else None

    def block(tensor, width, name):
        for index in (1, 2):
            tensor = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_regularizer=regulariser,
                                   name=f"{name}_conv{index}")(tensor)
            tensor = layers.BatchNormalization(name=f"{name}_bn{index}")(tensor)
            tensor = layers.Activation("relu", name=f"{name}_relu{index}")(tensor)
        return tensor

    inputs = keras.Input((tile, tile, 3), name="image")
    tensor = layers.Rescaling(1 / 127.5, offset=-1.0, name="scale")(inputs)
    skips = []
    for level, width in enumerate(widths[:-1]):
        tensor = block(tensor, width, f"down{level}")
        skips.append(tensor)
        tensor = layers.MaxPooling2D(2, name=f"pool{level}")(tensor)
    tensor = block(tensor, widths[-1], "bottom")
    if dropout:
        tensor = layers.SpatialDropout2D(dropout, name="bottom_dropout")(tensor)
    for level in reversed(range(len(widths) - 1)):
        tensor = layers.Conv2DTranspose(widths[level], 2, strides=2, kernel_regularizer=regulariser,
                                        name=f"up{level}")(tensor)
        tensor = layers.Concatenate(name=f"skip{level}")([tensor, skips[level]])
        tensor = block(tensor, widths[level], f"decode{level}")
    outputs = layers.Conv2D(NUM_CLASSES, 1, activation="softmax", kernel_regularizer=regulariser,
                            name="probabilities")(tensor)
    return keras.Model(inputs, outputs, name="unet")


LOSSES = ("crossentropy", "dice", "crossentropy+dice", "boundary_crossentropy")
WEIGHTED_LOSSES = ("boundary_crossentropy",)  # their targets carry a weight map (``boundary_weights.py``)


def segmentation_loss(kind: str = "crossentropy", dice_weight: float = 1.0):
    """The training loss on the (N, T, T, 2) softmax: pixel cross-entropy, soft Dice of the positive class,
    cross-entropy + ``dice_weight`` x Dice, or ``boundary_crossentropy``: cross-entropy weighted per pixel by the
    U-Net paper's map, whose targets are (N, T, T, 2) (mask, weight) pairs instead of (N, T, T) masks."""
    if kind not in LOSSES:
        raise ValueError(f"unknown loss {kind!r}; use one of {', '.join(repr(name) for name in LOSSES)}")
    crossentropy = keras.losses.SparseCategoricalCrossentropy()

    def dice(truth, probabilities):
        truth = ops.cast(ops.reshape(truth, (-1,)), "float32")
        positive = ops.reshape(probabilities[..., 1], (-1,))
        overlap = ops.sum(truth * positive)
        return 1 - (2 * overlap + 1) / (ops.sum(truth) + ops.sum(positive) + 1)

    def weighted_crossentropy(target, probabilities):
        truth, weight = target[..., 0], target[..., 1]
        chosen = truth * probabilities[..., 1] + (1 - truth) * probabilities[..., 0]
        return ops.sum(-weight * ops.log(ops.clip(chosen, 1e-7, 1.0))) / ops.maximum(ops.sum(weight), 1e-7)

    def loss(truth, probabilities):
        if kind == "crossentropy":
            return crossentropy(truth, probabilities)
        if kind == "dice":
            return dice(truth, probabilities)
        if kind == "boundary_crossentropy":
            return weighted_crossentropy(ops.cast(truth, "float32"), probabilities)
        return crossentropy(truth, probabilities) + dice_weight * dice(truth, probabilities)

    loss.__name__ = kind.replace("+", "_")
    return loss
