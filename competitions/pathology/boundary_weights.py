"""The U-Net paper's pixel weight map (Ronneberger et al., 2015), for boundary-weighted cross-entropy:

    w(x) = w_c(x) + w0 * exp(-(d1(x) + d2(x))^2 / (2 sigma^2))

``w_c`` balances the classes (each class's pixels weigh in total as much as the other's), ``d1`` and ``d2`` are a
background pixel's distances to the nearest and the second-nearest object (gland). The second term is large only in
narrow gaps between two glands, so the loss stresses exactly the pixels that keep touching glands apart; it is left
out on object pixels and where an image has fewer than two objects.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from competitions.pathology.objects import object_labels


def class_balance(mask: np.ndarray) -> np.ndarray:
    """(H, W) float32 weights of a (H, W) boolean mask: each class's pixels get total / (2 x its count), so both
    classes weigh half of the image (all ones when one class is absent)."""
    positives = int(np.count_nonzero(mask))
    negatives = mask.size - positives
    if positives == 0 or negatives == 0:
        return np.ones(mask.shape, dtype=np.float32)
    return np.where(mask, mask.size / (2 * positives), mask.size / (2 * negatives)).astype(np.float32)


def two_nearest_distances(labels: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(d1, d2): (H, W) float64 distances of every pixel to the nearest and second-nearest of the ``count`` objects
    of a (H, W) label image (labels 1..count; inf where there are too few objects)."""
    nearest = np.full(labels.shape, np.inf)
    second = np.full(labels.shape, np.inf)
    for label in range(1, count + 1):
        distance = ndimage.distance_transform_edt(labels != label)
        second = np.minimum(second, np.maximum(nearest, distance))
        nearest = np.minimum(nearest, distance)
    return nearest, second


def boundary_weight_map(objects: np.ndarray, w0: float = 10.0, sigma: float = 5.0) -> np.ndarray:
    """(H, W) float32 weights w(x) of a (H, W) mask or label image (see the module docstring; ``sigma`` in pixels).

    A label image keeps touching glands apart (each label one object); a binary mask gives its connected components.
    """
    if w0 < 0 or sigma <= 0:
        raise ValueError(f"boundary weights need w0 >= 0 and sigma > 0, got w0={w0}, sigma={sigma}")
    labels, count = object_labels(np.asarray(objects))
    weights = class_balance(labels > 0)
    if count < 2 or w0 == 0:
        return weights
    nearest, second = two_nearest_distances(labels, count)
    gap = np.where(labels == 0, w0 * np.exp(-((nearest + second) ** 2) / (2 * sigma ** 2)), 0.0)
    return (weights + gap).astype(np.float32)
