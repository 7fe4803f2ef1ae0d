"""Heads on bottleneck features (logistic regression, the Keras dense head) as model specs of the k-fold loop, and
what a finished feature-head run is rebuilt into: its fold heads, class activation maps, and the whole pipeline as
one Keras model for export (``comp predict`` is the contract's default, through ``FeatureHeadSpec``)."""

from comp.vision.heads._cam import (
           CamSource,
           activation_maps,
           cam_source,
           class_activation_map,
           class_evidence,
           colour,
           overlay,
           upsample,
)
from comp.vision.heads._class_counts import check_class_counts
from comp.vision.heads._head_specs import HEADS, FeatureHeadSpec, default_search_space
from comp.vision.heads._heads import DenseHead, InferenceLayers, LogisticHead, grouped_split
from comp.vision.heads._inference import load_fold_heads
from comp.vision.heads._layers import custom_layers, register_custom_layers
from comp.vision.heads._pipeline import pipeline_model

__all__ = ["HEADS", "CamSource", "DenseHead", "FeatureHeadSpec", "InferenceLayers", "LogisticHead", "activation_maps",
           "cam_source", "check_class_counts", "class_activation_map", "class_evidence", "colour", "custom_layers", "default_search_space",
           "grouped_split", "load_fold_heads", "overlay", "pipeline_model", "register_custom_layers", "upsample"]
