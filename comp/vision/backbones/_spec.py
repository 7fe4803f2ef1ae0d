"""What a backbone is (native input size, preprocessing, builder) and where its weights come from.

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

from comp._lazy import lazy_import
from comp.errors import CompError

file_utils = lazy_import("keras.src.utils.file_utils")
keras = lazy_import("keras")
tf = lazy_import("tensorflow")

CAFFE_BGR_MEAN = (103.939, 116.779, 123.68)
TORCH_IMAGENET_MEAN = (0.485, 0.456, 0.406)
TORCH_IMAGENET_STD = (0.229, 0.224, 0.225)


def _caffe_bgr_mean(images):
    """Caffe-trained nets (VGG, ResNet, SqueezeNet): RGB -> BGR, subtract the ImageNet channel means."""
    return tf.cast(images, tf.float32)[..., ::-1] - tf.constant(CAFFE_BGR_MEAN)


def _tf_unit(images):
    """Inception-style nets: scale 0..255 to -1..1."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def _torch_imagenet(images):
    """Torch-trained nets (DenseNet): scale to 0..1, then standardise with the ImageNet mean and std."""
    return (tf.cast(images, tf.float32) / 255.0 - tf.constant(TORCH_IMAGENET_MEAN)) / tf.constant(TORCH_IMAGENET_STD)


def _in_model(images):
    """Nets that normalise inside the model (EfficientNetV2, ConvNeXt) take 0..255 as is."""
    return tf.cast(images, tf.float32)


_PREPROCESSORS = {
    "caffe-bgr-mean": _caffe_bgr_mean,
    "tf-unit": _tf_unit,
    "torch-imagenet": _torch_imagenet,
    "in-model": _in_model,
}


@functools.cache
def preprocessing_layer_class():
    """The Keras layer wrapping a preprocessing mode (defined on first use so importing stays TensorFlow-free)."""

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
        return preprocessing_layer_class()(self.preprocessing, name=f"{self.name}_preprocessing")

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
    return any(
        frame.f_globals.get("__name__") == file_utils.__name__ for frame, _ in traceback.walk_tb(error.__traceback__)
    )
