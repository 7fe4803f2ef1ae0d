"""SqueezeNet v1.1, built in Keras and loaded from the legacy HDF5 ImageNet weights (no Keras download exists)."""

from __future__ import annotations

import h5py

from comp._lazy import lazy_import
from comp.errors import CompError
from comp.vision.backbones._registry import register_backbone
from comp.vision.backbones._spec import (
    BackboneSpec,
    ResolvedWeights,
    _first_line,
    _missing_weights_message,
)

keras = lazy_import("keras")
layers = lazy_import("keras.layers")


# SqueezeNet v1.1 fire modules as (name, squeeze filters, expand filters per branch); a 3x3/2 max pool follows fire3
# and fire5.
SQUEEZENET_FIRE_MODULES = (
    ("fire2", 16, 64), ("fire3", 16, 64), ("fire4", 32, 128), ("fire5", 32, 128),
    ("fire6", 48, 192), ("fire7", 48, 192), ("fire8", 64, 256), ("fire9", 64, 256),
)  # fmt: skip


def _squeezenet_model(input_shape):
    """SqueezeNet v1.1 without its classifier; valid padding in conv1 and the pools gives 13x13x512 at 227x227."""
    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(64, 3, strides=2, activation="relu", name="conv1")(inputs)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for name, squeeze_filters, expand_filters in SQUEEZENET_FIRE_MODULES:
        # Keras 3 forbids "/" in layer names: layer fire2_squeeze1x1 holds the HDF5 group fire2/squeeze1x1.
        squeezed = layers.Conv2D(squeeze_filters, 1, activation="relu", name=f"{name}_squeeze1x1")(x)
        expand1x1 = layers.Conv2D(expand_filters, 1, activation="relu", name=f"{name}_expand1x1")(squeezed)
        expand3x3 = layers.Conv2D(expand_filters, 3, padding="same", activation="relu", name=f"{name}_expand3x3")(
            squeezed
        )
        x = layers.Concatenate(axis=-1, name=f"{name}_concat")([expand1x1, expand3x3])
        if name in ("fire3", "fire5"):
            x = layers.MaxPooling2D(3, strides=2, name=f"pool{name[-1]}")(x)
    return keras.Model(inputs, x, name="squeezenet1_1")


def _load_squeezenet_weights(model, path: str) -> None:
    """Copy each conv layer's kernel and bias from a legacy Keras 1/2 HDF5 file, found by rank and checked by shape."""
    try:
        with h5py.File(path, "r") as handle:
            for layer in model.layers:
                if isinstance(layer, layers.Conv2D):
                    _assign_conv_weights(layer, handle, path)
    except OSError as error:
        message = f"cannot read SqueezeNet weights {path}: not a readable HDF5 file ({_first_line(error)})"
        raise CompError(message) from error


def _assign_conv_weights(layer, handle, path: str) -> None:

    group_name = layer.name.replace("_", "/", 1)
    group = handle.get(group_name)
    if not isinstance(group, h5py.Group):
        raise CompError(f"SqueezeNet weights {path} have no group {group_name!r} for layer {layer.name}")
    arrays = []
    group.visititems(lambda _, item: arrays.append(item) if isinstance(item, h5py.Dataset) else None)
    kernels = [array for array in arrays if array.ndim == 4]
    biases = [array for array in arrays if array.ndim == 1]
    expected = (tuple(layer.kernel.shape), tuple(layer.bias.shape))
    found = (kernels[0].shape, biases[0].shape) if len(kernels) == 1 and len(biases) == 1 else None
    if found != expected:
        shapes = [array.shape for array in arrays]
        raise CompError(
            f"SqueezeNet weights {path}: layer {group_name} holds arrays of shapes {shapes}, "
            f"expected kernel {expected[0]} and bias {expected[1]}"
        )
    layer.set_weights([kernels[0][()], biases[0][()]])


def _build_squeezenet(spec: BackboneSpec, weights: ResolvedWeights, input_shape):

    if weights.kind == "imagenet":
        raise CompError(_missing_weights_message(spec, "is not available locally and Keras has no download for it"))
    if weights.kind == "none":
        keras.utils.set_random_seed(weights.seed)
    model = _squeezenet_model(input_shape)
    if weights.kind == "file":
        _load_squeezenet_weights(model, weights.path)
    return model


@register_backbone("squeezenet1_1")
def squeezenet1_1() -> BackboneSpec:
    return BackboneSpec(
        name="squeezenet1_1",
        input_size=(227, 227),
        feature_size=512,
        preprocessing="caffe-bgr-mean",
        weights_filename="squeezenet_v1.1_imagenet_notop.h5",
        # The output (fire9) is at stride 16, not 32: fire5 is the deepest stride-8 map, fire7 a middle stride-16 one.
        skip_layers=("fire5_concat", "fire7_concat"),
        _build=_build_squeezenet,
        _downloadable=False,
    )
