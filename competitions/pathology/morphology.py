"""Clean-up steps for a predicted (H, W) boolean mask: hole filling, small-object removal, opening and closing with a
disc, and a watershed that splits touching glands (so the object-level scores count them apart).

Every step maps a (H, W) boolean mask to a (H, W) boolean mask; a parameter of 0 (or False) leaves it unchanged.
Objects are 8-connected, as in ``objects.py``.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy import ndimage

from competitions.pathology.objects import object_labels

NEIGHBOUR_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))  # with their opposites, the 8 neighbours of a pixel


def boolean_mask(mask: np.ndarray) -> np.ndarray:
    """``mask`` as a (H, W) boolean array (non-zero is positive)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"a mask is (H, W), got shape {mask.shape}")
    return mask != 0


def disc(radius: int) -> np.ndarray:
    """(2r + 1, 2r + 1) boolean disc of ``radius`` pixels: the structuring element of opening and closing."""
    if radius < 0:
        raise ValueError(f"a disc radius is at least 0, got {radius}")
    rows, columns = np.mgrid[-radius:radius + 1, -radius:radius + 1]
    return rows ** 2 + columns ** 2 <= radius ** 2


def filled_holes(mask: np.ndarray, fill: bool = True) -> np.ndarray:
    """``mask`` with every background region it encloses filled (a gland's lumen predicted as background); with
    ``fill`` False, as it is."""
    mask = boolean_mask(mask)
    return ndimage.binary_fill_holes(mask) if fill else mask


def without_small_objects(mask: np.ndarray, min_size: int) -> np.ndarray:
    """``mask`` without its objects of fewer than ``min_size`` pixels (specks of false positives)."""
    mask = boolean_mask(mask)
    if min_size < 0:
        raise ValueError(f"min_size is a number of pixels, at least 0, got {min_size}")
    labels, _ = object_labels(mask)
    areas = np.bincount(labels.ravel())
    kept = areas >= min_size
    kept[0] = False
    return kept[labels]


def morphed(mask: np.ndarray, radius: int, operation: int) -> np.ndarray:
    """``mask`` opened or closed (``cv2.MORPH_OPEN``/``cv2.MORPH_CLOSE``) with a disc of ``radius`` pixels; the image
    edge neither erodes nor grows objects."""
    mask = boolean_mask(mask)
    if radius == 0:
        return mask
    kernel = disc(radius).astype(np.uint8)
    return cv2.morphologyEx(mask.astype(np.uint8), operation, kernel).astype(bool)


def opened(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` opened with a disc: thin bridges and objects narrower than the disc go."""
    return morphed(mask, radius, cv2.MORPH_OPEN)


def closed(mask: np.ndarray, radius: int) -> np.ndarray:
    """``mask`` closed with a disc: gaps and notches narrower than the disc are filled."""
    return morphed(mask, radius, cv2.MORPH_CLOSE)


def flooded(seeds: np.ndarray, distance: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """Watershed by immersion of ``inside`` from the labelled ``seeds`` (H, W ints, 0 = none): the labels grow
    one whole-pixel level of ``distance`` at a time, from the highest down, each level in breadth-first waves
    until it stops; (H, W) labels. A pixel that two labels reach in one wave takes its nearest seed's label when
    that is one of them (else the larger), so the line between two glands is not pushed towards either.
    ``inside`` must leave the array's edge pixels out (so every neighbour of an inside pixel exists)."""
    if inside[0].any() or inside[-1].any() or inside[:, 0].any() or inside[:, -1].any():
        raise ValueError("flooding needs a one-pixel border of background around the object")
    width = inside.shape[1]
    labels, levels, within = seeds.ravel().copy(), np.floor(distance).ravel(), inside.ravel()
    nearest = ndimage.distance_transform_edt(seeds == 0, return_distances=False, return_indices=True)
    nearest_seed = seeds[tuple(nearest)].ravel()
    preferred = int(seeds.max()) + 1  # added to a label's key where it is the pixel's nearest seed's
    steps = np.array([row * width + column for row in (-1, 0, 1) for column in (-1, 0, 1) if row or column])
    front = np.flatnonzero(labels)  # labelled pixels that may still have unlabelled neighbours
    for level in np.unique(levels[within])[::-1]:
        wave = front
        while wave.size:
            targets = (wave[:, None] + steps).ravel()
            sources = np.repeat(labels[wave], len(steps))
            open_targets = within[targets] & (labels[targets] == 0) & (levels[targets] >= level)
            targets, sources = targets[open_targets], sources[open_targets]
            key = (sources == nearest_seed[targets]) * preferred + sources
            order = np.lexsort((key, targets))
            targets, sources = targets[order], sources[order]
            best = np.ones(len(targets), dtype=bool)  # each target's last, highest-keyed source
            best[:-1] = targets[1:] != targets[:-1]
            wave = targets[best]
            labels[wave] = sources[best]
            front = np.concatenate([front, wave])
        neighbours = front[:, None] + steps
        front = front[(within[neighbours] & (labels[neighbours] == 0)).any(axis=1)]
    return labels.reshape(inside.shape)


def split_touching(mask: np.ndarray, min_distance: int) -> np.ndarray:
    """(H, W) int32 labels of ``mask``'s objects with touching glands split: within each object the peaks of the
    distance to the background (local maxima over a square of ``min_distance`` pixels either side, each grown by
    half of ``min_distance`` so that nearby peaks merge) seed a watershed of the distance transform. Objects that
    fit within ``min_distance`` (their box's diagonal) stay whole, and so does every object for ``min_distance`` 0."""
    mask = boolean_mask(mask)
    if min_distance < 0:
        raise ValueError(f"min_distance is a number of pixels, at least 0, got {min_distance}")
    objects, _ = object_labels(mask)
    if min_distance == 0:
        return objects
    result = np.zeros(mask.shape, dtype=np.int32)
    used = 0  # labels given so far
    for index, window in enumerate(ndimage.find_objects(objects), start=1):
        own = objects[window] == index
        parts = own.astype(np.int32)
        # too small to hold two glands min_distance apart: kept whole without looking for peaks
        if np.hypot(own.shape[0] - 1, own.shape[1] - 1) > min_distance:
            inside = np.pad(own, 1)  # the image edge counts as background
            distance = ndimage.distance_transform_edt(inside)
            peaks = inside & (distance == ndimage.maximum_filter(distance, size=2 * min_distance + 1))
            merged = inside & (ndimage.distance_transform_edt(~peaks) <= min_distance // 2)
            seeds, count = ndimage.label(merged, structure=np.ones((3, 3), dtype=bool))
            if count > 1:
                parts = flooded(seeds.astype(np.int32), distance, inside)[1:-1, 1:-1]
        result[window] = np.where(own, parts + used, result[window])
        used += int(parts.max())
    return result


def separated(labels: np.ndarray) -> np.ndarray:
    """(H, W) boolean mask of a label image in which no two different labels touch, even diagonally: of every pair
    of neighbouring pixels with different non-zero labels, the one with the larger label is cleared."""
    labels = np.asarray(labels)
    cleared = np.zeros(labels.shape, dtype=bool)
    height, width = labels.shape
    for row_step, column_step in NEIGHBOUR_OFFSETS:
        here = (slice(0, height - row_step), slice(max(0, -column_step), width - max(0, column_step)))
        there = (slice(row_step, height), slice(max(0, column_step), width - max(0, -column_step)))
        first, second = labels[here], labels[there]
        differ = (first != second) & (first > 0) & (second > 0)
        cleared[here] |= differ & (first > second)
        cleared[there] |= differ & (second > first)
    return (labels > 0) & ~cleared


def watershed_split(mask: np.ndarray, min_distance: int) -> np.ndarray:
    """``mask`` with touching glands split by ``split_touching`` and a line of background between the parts, so
    they are separate objects of the boolean mask; ``min_distance`` 0 leaves it unchanged."""
    mask = boolean_mask(mask)
    return separated(split_touching(mask, min_distance)) if min_distance else mask
