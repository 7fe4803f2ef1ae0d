"""Turn cached backbone features into the feature sets heads are fitted on: per backbone and view, TTA, concat."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comp.contract import Dataset
from comp.errors import CompError
from comp.vision._callbacks import check_unreadable_test, drop_unreadable_training_rows
from comp.vision.backbones import get_backbone, resolve_weights
from comp.vision.features._extraction import ExtractionOptions, FeatureRequest, extract

logger = logging.getLogger("comp.features")
MEAN_FEATURES = "predict them from the mean features"  # what --allow-bad-test does with unreadable test images


@dataclass
class FeatureSet:
    """Views of the same rows: heads train on all views stacked and predict the mean over views (TTA)."""

    name: str
    train_views: list[np.ndarray]
    test_views: list[np.ndarray]

    @property
    def dimension(self) -> int:
        return int((self.train_views or self.test_views)[0].shape[1])


def feature_requests(config: dict) -> list[FeatureRequest]:
    """One request per (backbone, view) from the config's backbones, weights, views and pooling."""
    backbone_names = config.get("backbones") or []
    if not backbone_names:
        raise CompError("no backbones configured; pass --backbones NAME[,NAME...] (see `comp list --backbones`)")
    weights_sources = config.get("weights") or {}
    unknown = sorted(set(weights_sources) - set(backbone_names))
    if unknown:
        raise CompError(f"--weights names {', '.join(unknown)} not among --backbones {','.join(backbone_names)}")
    requests = []
    for name in backbone_names:
        backbone = get_backbone(name)
        weights = resolve_weights(backbone, weights_sources.get(name, config.get("default_weights", "imagenet")),
                                  seed=int(config.get("seed", 0)))
        if weights.kind == "none":
            logger.warning("%s uses RANDOM weights (weights=none): features are for plumbing tests only", name)
        for view in config.get("views", ["orig", "flip"]):
            requests.append(FeatureRequest(backbone, weights, view, config.get("pooling", "avg")))
    return requests


def extraction_options(config: dict) -> ExtractionOptions:
    return ExtractionOptions(batch_size=int(config.get("extract_batch_size", 32)),
                             chunk_size=int(config.get("chunk_size", 512)),
                             mixed_precision=bool(config.get("mixed_precision", False)),
                             xla=bool(config.get("xla", False)))


def feature_set_layout(config: dict) -> dict[str, list[list[str]]]:
    """Feature set name -> its views, each view the list of request names concatenated column-wise.

    Per backbone: one set per view and, with several views, a ``tta`` set holding all of them; with several
    backbones, the same again for their concatenation (the seed's fusion).
    """
    views = list(config.get("views", ["orig", "flip"]))
    backbones = list(config["backbones"])
    groups = [(backbone, [backbone]) for backbone in backbones]
    if len(backbones) > 1:
        groups.append(("concat", backbones))
    layout = {}
    for group_name, members in groups:
        for view in views:
            layout[f"{group_name}.{view}"] = [[f"{member}:{view}" for member in members]]
        if len(views) > 1:
            layout[f"{group_name}.tta"] = [[f"{member}:{view}" for member in members] for view in views]
    return layout


def stack_columns(features: dict[str, np.ndarray], request_names: list[str], rows=slice(None)) -> np.ndarray:
    """The named feature matrices side by side (selected rows only)."""
    return np.hstack([np.asarray(features[name])[rows] for name in request_names]).astype(np.float32)


def fill_unreadable(matrix: np.ndarray, fill_values: np.ndarray) -> np.ndarray:
    """Rows of unreadable images (NaN) replaced by ``fill_values`` (the training mean)."""
    matrix = matrix.copy()
    matrix[np.isnan(matrix).any(axis=1)] = fill_values
    return matrix


def build_feature_sets(dataset: Dataset, config: dict, cache_dir: Path) -> list[FeatureSet]:
    """Extract (or load) features for train and test; drop bad train images, stop on bad test images."""
    requests = feature_requests(config)
    options = extraction_options(config)
    train = extract(dataset.train["path"].tolist(), requests, cache_dir=cache_dir, options=options)
    test = extract(dataset.test["path"].tolist(), requests, cache_dir=cache_dir, options=options)
    logger.info("features: %d train + %d test images, %d computed in %.1f s (the rest from cache)",
                len(dataset.train), len(dataset.test), train.computed_images + test.computed_images,
                train.seconds + test.seconds)
    check_unreadable_test(test.bad_paths, config, remedy=MEAN_FEATURES)
    keep = drop_unreadable_training_rows(dataset, train.bad_paths)
    sets = []
    for name, views in feature_set_layout(config).items():
        train_views = [stack_columns(train.features, view, keep) for view in views]
        test_views = [fill_unreadable(stack_columns(test.features, view), matrix.mean(axis=0))
                      for view, matrix in zip(views, train_views)]
        sets.append(FeatureSet(name, train_views, test_views))
    return sets


def prediction_feature_sets(paths: list[str], config: dict, cache_dir: Path) -> list[FeatureSet]:
    """The feature sets of new images alone (``comp predict``): test views only, no training views; an unreadable
    image stops it (no training mean to fill it with)."""
    features = extract(paths, feature_requests(config), cache_dir=cache_dir, options=extraction_options(config))
    check_unreadable_test(features.bad_paths, {}, remedy=MEAN_FEATURES)
    return [FeatureSet(name, [], [stack_columns(features.features, view) for view in views])
            for name, views in feature_set_layout(config).items()]
