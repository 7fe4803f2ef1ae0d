"""Frozen pretrained feature extractors by name: native input size, preprocessing, weights resolution, builder.

TensorFlow and Keras are imported inside the functions that need them, so listing backbones stays fast.
"""

from __future__ import annotations

import functools
import hashlib
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from comp.errors import CompError
from comp.registry import register_backbone

CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCH_IMAGENET_MEAN = (0.485, 0.456, 0.406)
TORCH_IMAGENET_STD = (0.229, 0.224, 0.225)


def _caffe_bgr_mean(images):
    """Caffe-trained nets (VGG, ResNet, SqueezeNet): RGB -> BGR, subtract the ImageNet channel means."""
    import tensorflow as tf

    return tf.cast(images, tf.float32)[..., ::-1] - tf.constant(CAFFE_BGR_MEAN)


def _tf_unit(images):
    """Inception-style nets: scale 0..255 to -1..1."""
    import tensorflow as tf

    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _torch_imagenet(images):
    """Torch-trained nets (DenseNet): scale to 0..1, then standardise with the ImageNet mean and std."""
    import tensorflow as tf

    return (tf.cast(images, tf.float32) / 255.0 - tf.constant(TORCH_IMAGENET_MEAN)) / tf.constant(TORCH_IMAGENET_STD)


def _in_model(images):
    """Nets that normalise inside the model (EfficientNetV2, ConvNeXt) take 0..255 as is."""
    import tensorflow as tf

    return tf.cast(images, tf.float32)


_PREPROCESSORS = {
    "caffe-bgr-mean": _caffe_bgr_mean,
    "tf-unit": _tf_unit,
    "torch-imagenet": _torch_imagenet,
    "in-model": _in_model,
}


@functools.cache
def _preprocessing_layer_class():
    """The Keras layer wrapping a preprocessing mode (defined on first use so importing stays TensorFlow-free)."""
    import keras

    @keras.saving.register_keras_serializable(package="comp")
    class Preprocessing(keras.layers.Layer):
        """A backbone's input preprocessing as a layer, so feature models and exports take raw 0..255 RGB."""

        def __init__(self, mode: str, **kwargs):
            super().__init__(**kwargs)
            self.mode = mode

        def call(self, images):
            return _PREPROCESSORS[self.mode](images)

        def get_config(self):
            return {**super().get_config(), "mode": self.mode}

    return Preprocessing


@dataclass(frozen=True)
class ResolvedWeights:
    """Where a backbone's weights come from, with a stable identity for feature-cache keys."""

    kind: str  # "imagenet" (Keras downloads), "file" (local file) or "none" (random init)
    path: str | None
    identity: str
    seed: int = 0  # random-init seed, used by kind "none"

    def __post_init__(self):
        if self.kind not in ("imagenet", "file", "none"):
            raise ValueError(f"weights kind must be 'imagenet', 'file' or 'none', not {self.kind!r}")


@dataclass(frozen=True)
class BackboneSpec:
    """A registered backbone: what it expects as input and how to build it as a headless feature extractor."""

    name: str
    input_size: tuple[int, int]
    feature_size: int
    preprocessing: str
    weights_filename: str
    skip_layers: tuple[str, ...]
    _build: Callable = field(repr=False, compare=False)
    _downloadable: bool = field(default=True, repr=False, compare=False)

    def __post_init__(self):
        if self.preprocessing not in _PREPROCESSORS:
            raise ValueError(f"backbone {self.name!r}: unknown preprocessing {self.preprocessing!r}")

    def preprocess(self, images):
        """Float RGB 0..255 images (N, H, W, 3) -> the network's input; pure TensorFlow, usable in tf.data."""
        return _PREPROCESSORS[self.preprocessing](images)

    def preprocessing_layer(self):
        """``preprocess`` as a serialisable Keras layer, for functional models built on Keras tensors."""
        return _preprocessing_layer_class()(self.preprocessing, name=f"{self.name}_preprocessing")

    def build(self, weights: ResolvedWeights, input_size: tuple[int, int] | None = None):
        """Functional Keras model: preprocessed images (N, H, W, 3) -> final conv feature map (N, h, w, C)."""
        height, width = input_size or self.input_size
        return self._build(self, weights, (int(height), int(width), 3))


def keras_cache_dir() -> Path:
    """The directory where Keras caches downloaded model weights ($KERAS_HOME/models, default ~/.keras/models)."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras").expanduser() / "models"


def resolve_weights(spec: BackboneSpec, source: str | None = "imagenet", *, seed: int = 0) -> ResolvedWeights:
    """Turn "imagenet", "none" (or None, as in Keras) or a file path into the weights ``spec.build`` loads.

    "imagenet" prefers a local copy: $COMP_WEIGHTS_DIR/<weights_filename>, then the Keras cache.
    """
    if source is None or source == "none":
        return ResolvedWeights("none", None, f"none:seed={seed}", seed)
    if source != "imagenet":
        path = Path(source).expanduser()
        if not path.is_file():
            raise CompError(f"weights file for {spec.name} not found: {source}")
        return _file_weights(path)
    local_copies = [keras_cache_dir() / spec.weights_filename]
    if os.environ.get("COMP_WEIGHTS_DIR"):
        local_copies.insert(0, Path(os.environ["COMP_WEIGHTS_DIR"]).expanduser() / spec.weights_filename)
    for path in local_copies:
        if path.is_file():
            return _file_weights(path)
    if not spec._downloadable:
        raise CompError(_missing_weights_message(spec, "is not available locally and Keras has no download for it"))
    return ResolvedWeights("imagenet", None, f"imagenet:{spec.weights_filename}")


def _file_weights(path: Path) -> ResolvedWeights:
    stat = path.stat()
    digest = _sha256(str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    return ResolvedWeights("file", str(path), f"file:sha256:{digest}")


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    """Content hash of a weights file; size and mtime are part of the cache key so an edited file is rehashed."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _missing_weights_message(spec: BackboneSpec, reason: str) -> str:
    return (
        f"cannot load ImageNet weights for {spec.name}: {spec.weights_filename} {reason}; "
        f"provide it with --weights {spec.name}=PATH, put it in $COMP_WEIGHTS_DIR, "
        f"or copy it to {keras_cache_dir()}/"
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _raised_while_downloading(error: BaseException) -> bool:
    """True when the exception came out of Keras' file download (``keras.utils.get_file``)."""
    from keras.src.utils import file_utils

    return any(
        frame.f_globals.get("__name__") == file_utils.__name__ for frame, _ in traceback.walk_tb(error.__traceback__)
    )


def _build_keras_application(application_name: str, spec: BackboneSpec, weights: ResolvedWeights, input_shape):
    """A ``keras.applications`` network without its top, loaded according to ``weights``."""
    import keras

    application = getattr(keras.applications, application_name)
    if weights.kind == "imagenet":
        try:
            return application(include_top=False, weights="imagenet", input_shape=input_shape)
        except Exception as error:
            if not _raised_while_downloading(error):
                raise
            message = _missing_weights_message(spec, "is not cached and could not be downloaded (offline?)")
            raise CompError(message) from error
    if weights.kind == "none":
        keras.utils.set_random_seed(weights.seed)
    model = application(include_top=False, weights=None, input_shape=input_shape)
    if weights.kind == "file":
        try:
            model.load_weights(weights.path)
        except Exception as error:
            raise CompError(f"cannot load {spec.name} weights from {weights.path}: {_first_line(error)}") from error
    return model


def _application_spec(name, application_name, input_size, feature_size, preprocessing, weights_filename, skip_layers):
    return BackboneSpec(
        name=name,
        input_size=(input_size, input_size),
        feature_size=feature_size,
        preprocessing=preprocessing,
        weights_filename=weights_filename,
        skip_layers=skip_layers,
        _build=functools.partial(_build_keras_application, application_name),
    )


@register_backbone("vgg16")
def vgg16() -> BackboneSpec:
    return _application_spec(
        "vgg16", "VGG16", 224, 512, "caffe-bgr-mean",
        "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5", ("block3_pool", "block4_pool"),
    )  # fmt: skip


@register_backbone("resnet50")
def resnet50() -> BackboneSpec:
    return _application_spec(
        "resnet50", "ResNet50", 224, 2048, "caffe-bgr-mean",
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5", ("conv3_block4_out", "conv4_block6_out"),
    )  # fmt: skip


@register_backbone("inception_v3")
def inception_v3() -> BackboneSpec:
    return _application_spec(
        "inception_v3", "InceptionV3", 299, 2048, "tf-unit",
        "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5", ("mixed2", "mixed7"),
    )  # fmt: skip


@register_backbone("xception")
def xception() -> BackboneSpec:
    # The residual sums are unnamed in Keras, so the skips are the ReLUs that read the block3 and block12 sums.
    return _application_spec(
        "xception", "Xception", 299, 2048, "tf-unit",
        "xception_weights_tf_dim_ordering_tf_kernels_notop.h5", ("block4_sepconv1_act", "block13_sepconv1_act"),
    )  # fmt: skip


@register_backbone("densenet121")
def densenet121() -> BackboneSpec:
    return _application_spec(
        "densenet121", "DenseNet121", 224, 1024, "torch-imagenet",
        "densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5", ("pool3_relu", "pool4_relu"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b0")
def efficientnetv2_b0() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b0", "EfficientNetV2B0", 224, 1280, "in-model",
        "efficientnetv2-b0_notop.h5", ("block3b_add", "block5e_add"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b1")
def efficientnetv2_b1() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b1", "EfficientNetV2B1", 240, 1280, "in-model",
        "efficientnetv2-b1_notop.h5", ("block3c_add", "block5f_add"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b2")
def efficientnetv2_b2() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b2", "EfficientNetV2B2", 260, 1408, "in-model",
        "efficientnetv2-b2_notop.h5", ("block3c_add", "block5f_add"),
    )  # fmt: skip


@register_backbone("efficientnetv2_b3")
def efficientnetv2_b3() -> BackboneSpec:
    return _application_spec(
        "efficientnetv2_b3", "EfficientNetV2B3", 300, 1536, "in-model",
        "efficientnetv2-b3_notop.h5", ("block3c_add", "block5g_add"),
    )  # fmt: skip


@register_backbone("convnext_tiny")
def convnext_tiny() -> BackboneSpec:
    return _application_spec(
        "convnext_tiny", "ConvNeXtTiny", 224, 768, "in-model",
        "convnext_tiny_notop.h5", ("convnext_tiny_stage_1_block_2_identity", "convnext_tiny_stage_2_block_8_identity"),
    )  # fmt: skip


@register_backbone("mobilenet_v2")
def mobilenet_v2() -> BackboneSpec:
    return _application_spec(
        "mobilenet_v2", "MobileNetV2", 224, 1280, "tf-unit",
        "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5", ("block_5_add", "block_12_add"),
    )  # fmt: skip


# SqueezeNet v1.1 fire modules as (name, squeeze filters, expand filters per branch); a 3x3/2 max pool follows fire3
# and fire5.
SQUEEZENET_FIRE_MODULES = (
    ("fire2", 16, 64), ("fire3", 16, 64), ("fire4", 32, 128), ("fire5", 32, 128),
    ("fire6", 48, 192), ("fire7", 48, 192), ("fire8", 64, 256), ("fire9", 64, 256),
)  # fmt: skip


def _squeezenet_model(input_shape):
    """SqueezeNet v1.1 without its classifier; valid padding in conv1 and the pools gives 13x13x512 at 227x227."""
    import keras
    from keras import layers

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
    import h5py
    from keras import layers

    try:
        with h5py.File(path, "r") as handle:
            for layer in model.layers:
                if isinstance(layer, layers.Conv2D):
                    _assign_conv_weights(layer, handle, path)
    except OSError as error:
        message = f"cannot read SqueezeNet weights {path}: not a readable HDF5 file ({_first_line(error)})"
        raise CompError(message) from error


def _assign_conv_weights(layer, handle, path: str) -> None:
    import h5py

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
    import keras

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
