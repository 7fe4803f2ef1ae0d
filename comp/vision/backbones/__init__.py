"""Frozen pretrained feature extractors by name (``list_backbones("eff*")``, ``get_backbone("resnet50")``):
the ``keras.applications`` networks and SqueezeNet v1.1, each with its input size, preprocessing and weights."""

from comp.vision.backbones import _keras_applications, _squeezenet  # noqa: F401  (register the built-in backbones)
from comp.vision.backbones._registry import (
    get_backbone,
    list_backbones,
    register_backbone,
)
from comp.vision.backbones._spec import (
    BackboneSpec,
    ResolvedWeights,
    keras_cache_dir,
    preprocessing_layer_class,
    resolve_weights,
)

__all__ = ["BackboneSpec", "ResolvedWeights", "get_backbone", "keras_cache_dir", "list_backbones",
           "preprocessing_layer_class", "register_backbone", "resolve_weights"]
