"""Turn cached backbone features into the feature sets heads are fitted on: per backbone and view, TTA, concat."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comp.backbones import resolve_weights
from comp.competition import Dataset
from comp.errors import CompError
from comp.features import ExtractionOptions, FeatureRequest, extract
from comp.registry import get_backbone

logger = logging.getLogger("comp.features")


@dataclass
class FeatureSet:
    """Views of the same rows: heads train on all views stacked and predict the mean over views (TTA)."""

    name: str
    train_views: list[np.ndarray]
    test_views: list[np.ndarray]

    @property
    def dimension(self) -> int:
        return int(self.train_views[0].shape[1])


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


def build_feature_sets(dataset: Dataset, config: dict, cache_dir: Path) -> list[FeatureSet]:
    """Extract (or load) features for train and test; drop bad train images, stop on bad test images."""
    requests = feature_requests(config)
    options = extraction_options(config)
    train = extract(dataset.train["path"].tolist(), requests, cache_dir=cache_dir, options=options)
    test = extract(dataset.test["path"].tolist(), requests, cache_dir=cache_dir, options=options)
    logger.info("features: %d train + %d test images, %d computed in %.1f s (the rest from cache)",
                len(dataset.train), len(dataset.test), train.computed_images + test.computed_images,
                train.seconds + test.seconds)
    if test.bad_paths:
        listing = ", ".join(test.bad_paths)
        if not config.get("allow_bad_test"):
            raise CompError(f"{len(test.bad_paths)} test image(s) cannot be decoded: {listing} "
                            f"(fix them, or pass --allow-bad-test to predict them from the mean features)")
        logger.warning("%d unreadable test image(s), predicted from mean features: %s", len(test.bad_paths), listing)
    keep = ~dataset.train["path"].astype(str).isin(set(train.bad_paths)).to_numpy()
    if not keep.all():
        dataset.dropped.extend(train.bad_paths)
        dataset.train = dataset.train[keep].reset_index(drop=True)
    if len(dataset.train) == 0:
        raise CompError("no training image could be decoded")

    def matrices(request_names: list[str]) -> tuple[np.ndarray, np.ndarray]:
        train_matrix = np.hstack([np.asarray(train.features[name])[keep] for name in request_names])
        test_matrix = np.hstack([np.asarray(test.features[name]) for name in request_names])
        missing = np.isnan(test_matrix).any(axis=1)
        test_matrix[missing] = train_matrix.mean(axis=0)
        return train_matrix, test_matrix

    views = list(config.get("views", ["orig", "flip"]))
    backbones = list(config["backbones"])
    sets = []
    groups = [(backbone, [backbone]) for backbone in backbones]
    if len(backbones) > 1:
        groups.append(("concat", backbones))
    for group_name, members in groups:
        per_view = {view: matrices([f"{member}:{view}" for member in members]) for view in views}
        for view in views:
            sets.append(FeatureSet(f"{group_name}.{view}", [per_view[view][0]], [per_view[view][1]]))
        if len(views) > 1:
            sets.append(FeatureSet(f"{group_name}.tta", [per_view[v][0] for v in views],
                                   [per_view[v][1] for v in views]))
    return sets
