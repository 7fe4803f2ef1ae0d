"""Class activation maps: a conv feature map weighted by a linear sigmoid head (a 1x1 convolution), over the image.

With average pooling, a head P = sigmoid(mean_ij(F_ij) @ w + b) is the mean of the map F_ij @ w + b, so the map
shows where the evidence for class 1 (positive, red) and class 0 (negative, blue) lies.
"""

from __future__ import annotations

import numpy as np


def class_activation_map(feature_map: np.ndarray, weights: np.ndarray, bias: float = 0.0) -> np.ndarray:
    """(h, w) logit map of an (h, w, C) feature map under a head's weights (C,) and bias: a 1x1 convolution."""
    feature_map = np.asarray(feature_map, dtype=np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if feature_map.ndim != 3 or feature_map.shape[-1] != weights.shape[0]:
        raise ValueError(f"feature map {feature_map.shape} does not match head weights {weights.shape}")
    return feature_map @ weights + bias


def upsample(activation_map: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """The map resized to (height, width) by bilinear interpolation."""
    import cv2

    height, width = size
    return cv2.resize(np.asarray(activation_map, dtype=np.float32), (width, height), interpolation=cv2.INTER_LINEAR)


def colour(activation_map: np.ndarray, limit: float | None = None) -> np.ndarray:
    """RGB uint8 of the map on a symmetric scale: -limit blue, 0 green, +limit red (limit: max |map| by default)."""
    import cv2

    limit = float(np.max(np.abs(activation_map))) if limit is None else float(limit)
    scaled = 0.5 + 0.5 * np.asarray(activation_map, dtype=np.float64) / max(limit, 1e-12)
    levels = np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)
    return cv2.applyColorMap(levels, cv2.COLORMAP_JET)[..., ::-1]


def overlay(image: np.ndarray, activation_map: np.ndarray, opacity: float = 0.45) -> np.ndarray:
    """The map upsampled to the RGB uint8 image, coloured and laid over it."""
    heat = colour(upsample(activation_map, image.shape[:2]))
    blended = (1.0 - opacity) * image.astype(np.float64) + opacity * heat.astype(np.float64)
    return np.clip(np.round(blended), 0, 255).astype(np.uint8)
