"""Class activation maps: a conv feature map weighted by a linear head (a 1x1 convolution), over the image.

With average pooling, a head P = sigmoid(mean_ij(F_ij) @ w + b) is the mean of the map F_ij @ w + b, so the map
shows where the evidence for class 1 (positive, red) and class 0 (negative, blue) lies. A K-output head (softmax
or K sigmoids) gives K such maps; ``class_evidence`` turns a softmax head's into evidence for one class.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from comp.fusion import read_final
from comp.io import Run
from comp.vision.features import decoded_images, feature_requests, feature_set_layout
from comp.vision.heads._head_specs import HEADS
from comp.vision.heads._inference import load_fold_heads


def class_activation_map(feature_map: np.ndarray, weights: np.ndarray, bias: float | np.ndarray = 0.0) -> np.ndarray:
    """The logit map of an (h, w, C) feature map under a head's weights and bias, a 1x1 convolution: (h, w) for
    weights (C,) and a float bias, (h, w, K) for weights (C, K) and bias (K,)."""
    feature_map = np.asarray(feature_map, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if feature_map.ndim != 3 or feature_map.shape[-1] != weights.shape[0]:
        raise ValueError(f"feature map {feature_map.shape} does not match head weights {weights.shape}")
    return feature_map @ weights + np.asarray(bias, dtype=np.float64)


def class_evidence(logit_maps: np.ndarray, class_index: int) -> np.ndarray:
    """(h, w) evidence for one class of a softmax head's (h, w, K) logit maps: its logit minus the mean logit, the
    part of the map a softmax does not ignore (adding the same value to every class changes nothing)."""
    return logit_maps[..., class_index] - logit_maps.mean(axis=-1)


def upsample(activation_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The map resized to (height, width) by bilinear interpolation."""
    height, width = size
    return cv2.resize(np.asarray(activation_map, dtype=np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def colour(activation_map: np.ndarray, limit: float | None = None) -> np.ndarray:
    """RGB uint8 of the map on a symmetric scale: -limit blue, 0 green, +limit red (limit: max |map| by default)."""
    limit = float(np.max(np.abs(activation_map))) if limit is None else float(limit)
    scaled = 0.5 + 0.5 * np.asarray(activation_map, dtype=np.float64) / max(limit, 1e-12)
    levels = np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)
    return cv2.applyColorMap(levels, cv2.COLORMAP_JET)[..., ::-1]


def overlay(image: np.ndarray, activation_map: np.ndarray, opacity: float = 0.45) -> np.ndarray:
    """The map upsampled to the RGB uint8 image, coloured and laid over it."""
    heat = colour(upsample(activation_map, image.shape[:2]))
    blended = (1.0 - opacity) * image.astype(np.float64) + opacity * heat.astype(np.float64)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)


def backbones_of(layout: dict, feature_set: str) -> list[str]:
    """The backbones a feature set reads (its request names are ``backbone:view``)."""
    return sorted({request.split(":")[0] for view in layout[feature_set] for request in view})


@dataclass
class CamSource:
    """The model whose fold heads weight the maps, its one backbone, and each fold head's (weights, bias)."""

    model: str
    head: str
    backbone: str
    fold_weights: list[tuple[np.ndarray, float]]


def cam_source(run: Run) -> CamSource | None:
    """The best-scoring model whose heads are linear (one dense layer: sigmoid, softmax or linear) on average-pooled
    features of one backbone, dense heads first (the seed's CAM used its dense head); None when the run has none."""
    config, scores = run.config()["config"], read_final(run).scores
    if config.get("pooling", "avg") != "avg":
        return None
    layout = feature_set_layout(config)
    sign = 1.0 if scores["direction"] == "minimize" else -1.0
    candidates = sorted(((name, entry) for name, entry in scores["models"].items()
                         if entry.get("head") in HEADS and len(backbones_of(layout, entry["feature_set"])) == 1),
                        key=lambda item: (item[1]["head"] != "dense", sign * item[1]["score"]))
    for name, entry in candidates:
        fold_weights = [head.linear_weights() for head in load_fold_heads(run, scores, name)]
        if all(weights is not None for weights in fold_weights):
            return CamSource(name, entry["head"], backbones_of(layout, entry["feature_set"])[0], fold_weights)
    return None


def activation_maps(run: Run, source: CamSource, paths: list[str]) -> list[np.ndarray | None]:
    """Per image, the fold heads' mean logit map over the backbone's last conv feature map: (h, w) for one output,
    (h, w, K) for K (None if the image is unreadable).

    The heads are linear, so the mean of their maps is the map of their mean weights.
    """
    request = next(r for r in feature_requests(run.config()["config"]) if r.backbone.name == source.backbone)
    network = request.backbone.build(request.weights)
    weights = np.mean([weights for weights, _ in source.fold_weights], axis=0)
    bias = np.mean([bias for _, bias in source.fold_weights], axis=0)
    maps: list[np.ndarray | None] = [None] * len(paths)
    for indices, images in decoded_images(paths, request.backbone.input_size, batch_size=8):
        feature_maps = np.asarray(network(request.backbone.preprocess(images), training=False))
        for index, feature_map in zip(indices.numpy(), feature_maps):
            maps[int(index)] = class_activation_map(feature_map, weights, bias)
    return maps
