"""A U-Net on a registry encoder (SqueezeNet v1.1 with its ImageNet weights by default): the pretrained backbone is
the contracting path, a light decoder the expanding one.

The skips are the encoder's stages: for every spatial size its feature maps pass through, the last layer at that size
(for SqueezeNet at a 160-pixel tile, strides 2 to 16: conv1 79x79, fire3 39x39, fire5 19x19, fire9 9x9 as the bottom). Each decoder
level doubles the map bilinearly, centre-crops or mirror-pads it to its skip (valid-padded encoders give odd sizes),
concatenates and applies one 3x3 conv + BN + ReLU; a last level at the tile's own size ends in the 2-class softmax.
The encoder is one nested model named ``ENCODER_NAME``, so training can freeze it for a warm-up (``training.py``).
"""

from __future__ import annotations

import math

from comp._lazy import lazy_import
from comp.vision.backbones import get_backbone, resolve_weights
from competitions.pathology.models import NUM_CLASSES, match_size

keras = lazy_import("keras")
layers = lazy_import("keras.layers")

ENCODER_NAME = "encoder"


def stage_outputs(encoder) -> list:
    """The encoder's stage outputs, shallow to deep: for each stride (2, 4, 8, ...: the input's height over the map's,
    rounded to a power of two, so a padded 33x33 map is at the stride of a 32x32 one), the output of the last layer
    at that stride (a functional model's layers are in topological order)."""
    input_height = encoder.input.shape[1]
    last_at_stride = {}
    for layer in encoder.layers:
        shape = getattr(layer.output, "shape", None)
        if shape is None or len(shape) != 4:
            continue
        level = round(math.log2(input_height / shape[1]))
        if level > 0:
            last_at_stride[level] = layer.output
    if len(last_at_stride) < 2:
        raise ValueError(f"encoder {encoder.name} has {len(last_at_stride)} stage(s); a U-Net needs at least two")
    return [last_at_stride[level] for level in sorted(last_at_stride)]


def build_encoder_unet(backbone: str, *, tile: int, decoder_widths: tuple[int, ...] = (128, 64, 32, 16),
                       l2: float = 1e-6, weights: str | None = "imagenet", seed: int = 0):
    """U-Net for (tile, tile) RGB 0..255 input on ``backbone`` from the registry (weights as ``resolve_weights``
    takes them, its own preprocessing in front); see ``unet_on_encoder``."""
    spec = get_backbone(backbone)
    backbone_model = spec.build(resolve_weights(spec, weights, seed=seed), input_size=(tile, tile))
    return unet_on_encoder(backbone_model, spec.preprocessing_layer(), tile=tile, decoder_widths=decoder_widths,
                           l2=l2, name=f"unet_{backbone}")


def unet_on_encoder(backbone_model, preprocessing, *, tile: int, decoder_widths: tuple[int, ...], l2: float,
                    name: str):
    """The U-Net around a functional ``backbone_model`` of (tile, tile, 3) input, fed through the Keras layer
    ``preprocessing``; ``decoder_widths``: filters per decoder level, deepest first (the last is reused for any
    further level). Output (N, tile, tile, 2) softmax."""
    stages = stage_outputs(backbone_model)
    encoder = keras.Model(backbone_model.input, stages, name=ENCODER_NAME)
    inputs = keras.Input((tile, tile, 3), name="image")
    features = encoder(preprocessing(inputs))
    regulariser = keras.regularizers.L2(l2) if l2 else None
    tensor = features[-1]
    targets = [(skip.shape[1], skip.shape[2], skip) for skip in reversed(features[:-1])] + [(tile, tile, None)]
    for level, (height, width, skip) in enumerate(targets):
        width_filters = decoder_widths[min(level, len(decoder_widths) - 1)]
        tensor = layers.UpSampling2D(2, interpolation="bilinear", name=f"up{level}")(tensor)
        tensor = match_size(tensor, height, width, f"align{level}")
        if skip is not None:
            tensor = layers.Concatenate(name=f"skip{level}")([tensor, skip])
        tensor = layers.Conv2D(width_filters, 3, padding="same", use_bias=False, kernel_regularizer=regulariser,
                               name=f"decode{level}_conv")(tensor)
        tensor = layers.BatchNormalization(name=f"decode{level}_bn")(tensor)
        tensor = layers.Activation("relu", name=f"decode{level}_relu")(tensor)
    outputs = layers.Conv2D(NUM_CLASSES, 1, activation="softmax", kernel_regularizer=regulariser,
                            name="probabilities")(tensor)
    return keras.Model(inputs, outputs, name=name)


def encoder_of(model):
    """The nested encoder model of a network ``build_encoder_unet`` made."""
    return model.get_layer(ENCODER_NAME)
