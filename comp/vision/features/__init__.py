"""Bottleneck features: each (backbone, view) extracted once through a ``tf.data`` pipeline and cached on disk, then
laid out as the feature sets heads are fitted on (per backbone and view, TTA views, concatenations)."""

from comp.vision.features._extraction import (
    CACHE_FORMAT,
    POOLINGS,
    Extraction,
    ExtractionOptions,
    FeatureCache,
    FeatureRequest,
    build_extractor,
    cache_key,
    content_digests,
    decoded_images,
    distribution_strategy,
    extract,
    forward_function,
    precision_policy,
)
from comp.vision.features._feature_sets import (
    MEAN_FEATURES,
    FeatureSet,
    build_feature_sets,
    extraction_options,
    feature_requests,
    feature_set_layout,
    fill_unreadable,
    prediction_feature_sets,
    stack_columns,
)
from comp.vision.features._files import IMAGE_SUFFIXES, image_files

__all__ = ["build_extractor", "build_feature_sets", "CACHE_FORMAT", "cache_key", "content_digests", "decoded_images",
           "distribution_strategy", "extract", "Extraction", "extraction_options", "ExtractionOptions",
           "feature_requests", "feature_set_layout", "FeatureCache", "FeatureRequest", "FeatureSet",
           "fill_unreadable", "forward_function", "image_files", "IMAGE_SUFFIXES", "MEAN_FEATURES", "POOLINGS",
           "precision_policy", "prediction_feature_sets", "stack_columns"]
