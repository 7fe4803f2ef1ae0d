"""The GlaS challenge's object-level scores: object F1 (detection), object Dice (segmentation), object Hausdorff (shape).

Objects are the connected components of a boolean mask (8-connected, as MATLAB's ``bwlabel`` that the GlaS
evaluation used) or the non-zero labels of an integer label image, each object one label. Within an image every
object is matched to the object on the other side that it overlaps most. Scores are over a whole set of images, as
the challenge ranked a test part: F1 from the pooled counts, Dice and Hausdorff weighted by each object's share of
all objects' area on its side (ground truth or prediction), the two sides averaged.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import ndimage

from competitions.pathology.scoring import f1_from_counts, paired_images

EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def object_labels(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """(labels (H, W) int32, number of objects) of a (H, W) mask or label image.

    A boolean mask, or an integer image with a single non-zero value (a 0/1 or 0/255 PNG), gives its 8-connected
    components; an integer image with more values is a label image: its non-zero labels, renumbered 1..n in order
    (how the GlaS ground truth keeps touching glands apart)."""
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"objects are found in (H, W) masks or label images, got shape {mask.shape}")
    if mask.dtype == bool:
        return components(mask)
    if mask.dtype.kind not in "iu":
        raise ValueError(f"a mask must be boolean or integer (a binary mask or a label image), got dtype "
                         f"{mask.dtype}")
    values, labels = np.unique(mask, return_inverse=True)
    if values[0] < 0:
        raise ValueError(f"a label image has labels 0 (background) and up, got {values[0]}")
    if np.count_nonzero(values) <= 1:
        return components(mask != 0)
    labels = labels.reshape(mask.shape).astype(np.int32)
    if values[0] != 0:
        labels += 1  # no background pixel: every value is an object
    return labels, int(np.count_nonzero(values))


def components(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """(labels (H, W) int32, number) of the 8-connected components of a (H, W) boolean mask."""
    labels, count = ndimage.label(mask, structure=EIGHT_CONNECTED)
    return labels.astype(np.int32), int(count)


def overlap_table(truth_labels: np.ndarray, predicted_labels: np.ndarray, n_truth: int, n_predicted: int
                  ) -> np.ndarray:
    """(n_truth + 1, n_predicted + 1) pixel counts of every pair of labels (row/column 0: background); its row and
    column sums are the objects' areas."""
    if truth_labels.shape != predicted_labels.shape:
        raise ValueError(f"truth {truth_labels.shape} and prediction {predicted_labels.shape} differ in shape")
    pairs = truth_labels.astype(np.int64) * (n_predicted + 1) + predicted_labels
    return np.bincount(pairs.ravel(), minlength=(n_truth + 1) * (n_predicted + 1)).reshape(n_truth + 1,
                                                                                         n_predicted + 1)


def best_counterparts(overlaps: np.ndarray) -> np.ndarray:
    """For each object of the rows (1..), the column object (1..) it overlaps most, 0 when it overlaps none; (n,)."""
    objects = overlaps[1:, 1:]
    if objects.shape[1] == 0:
        return np.zeros(objects.shape[0], dtype=np.int64)
    return np.where(objects.max(axis=1) > 0, objects.argmax(axis=1) + 1, 0)


def detection_counts(truth: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int]:
    """(true positives, false positives, false negatives) of one image's (H, W) masks or label images.

    A predicted object is a true positive when it covers more than half of the ground-truth object it overlaps most
    (strictly more, so two predicted objects can never both claim one gland); every other predicted object is a
    false positive, and every ground-truth object no predicted object claims is a false negative.
    """
    truth_labels, n_truth = object_labels(truth)
    predicted_labels, n_predicted = object_labels(predicted)
    overlaps = overlap_table(truth_labels, predicted_labels, n_truth, n_predicted)
    truth_area = overlaps.sum(axis=1)
    matched = best_counterparts(overlaps.T)
    claimed = [overlaps[gland, segment + 1] > 0.5 * truth_area[gland]
               for segment, gland in enumerate(matched) if gland > 0]
    true_positive = int(np.count_nonzero(claimed))
    return true_positive, n_predicted - true_positive, n_truth - true_positive


def object_f1(truths: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """GlaS object F1 over a set of images (masks or label images, one (H, W) pair per image): 2TP / (2TP + FP + FN)
    from the counts of ``detection_counts`` summed over the images; 1.0 when there is nothing to find or mark."""
    counts = np.array([detection_counts(truth, predicted) for truth, predicted in paired_images(truths, predictions)],
                      dtype=np.int64).reshape(-1, 3).sum(axis=0)
    return f1_from_counts(*counts)


def dice(first: np.ndarray, second: np.ndarray) -> float:
    """2|A n B| / (|A| + |B|) of two boolean masks of one shape (1.0 when both are empty)."""
    total = np.count_nonzero(first) + np.count_nonzero(second)
    return 1.0 if total == 0 else 2.0 * np.count_nonzero(first & second) / total


def hausdorff_distance(first: np.ndarray, second: np.ndarray) -> float:
    """Hausdorff distance in pixels between the pixel sets of two non-empty (H, W) boolean masks: the farthest any
    pixel of one lies from the other. Computed on the crop that holds both, which contains every nearest pixel."""
    if not first.any() or not second.any():
        raise ValueError("the Hausdorff distance needs two non-empty pixel sets")
    rows = np.flatnonzero((first | second).any(axis=1))
    columns = np.flatnonzero((first | second).any(axis=0))
    window = (slice(rows[0], rows[-1] + 1), slice(columns[0], columns[-1] + 1))
    first, second = first[window], second[window]
    to_second = ndimage.distance_transform_edt(~second)[first].max()
    to_first = ndimage.distance_transform_edt(~first)[second].max()
    return float(max(to_second, to_first))


MEASURES = {"dice": dice, "hausdorff": hausdorff_distance}


def object_boxes(labels: np.ndarray, count: int) -> np.ndarray:
    """(count, 4) int64 bounding boxes (first row, last row, first column, last column; inclusive) of labels
    1..count of a (H, W) label image (an absent label gets an empty box that bounds nothing)."""
    boxes = np.tile(np.array([labels.shape[0], -1, labels.shape[1], -1], dtype=np.int64), (count, 1))
    for index, window in enumerate(ndimage.find_objects(labels, max_label=count)):
        if window is not None:
            boxes[index] = (window[0].start, window[0].stop - 1, window[1].start, window[1].stop - 1)
    return boxes


def union_window(first: np.ndarray, second: np.ndarray) -> tuple[slice, slice]:
    """The (rows, columns) slices of the smallest window holding both (4,) boxes."""
    return (slice(min(first[0], second[0]), max(first[1], second[1]) + 1),
            slice(min(first[2], second[2]), max(first[3], second[3]) + 1))


def hausdorff_lower_bounds(box: np.ndarray, others: np.ndarray) -> np.ndarray:
    """(n,) lower bounds of the Hausdorff distance between an object in (4,) ``box`` and each object in (n, 4)
    ``others``: an object's extreme pixel (its topmost, bottommost, leftmost, rightmost) is a pixel of it, and it lies
    at least its row (column) gap away from the other object's row (column) range."""
    bounds = np.zeros(len(others))
    for low, high in ((0, 1), (2, 3)):  # rows, then columns
        for edge in (others[:, low], others[:, high]):  # the others' extreme pixels against the box's range
            bounds = np.maximum(bounds, np.maximum(box[low] - edge, edge - box[high]))
        for edge in (box[low], box[high]):  # the box's extreme pixels against each other's range
            bounds = np.maximum(bounds, np.maximum(others[:, low] - edge, edge - others[:, high]))
    return bounds


def nearest_hausdorff(objects: np.ndarray, index: int, box: np.ndarray, others: np.ndarray,
                      other_boxes: np.ndarray) -> float:
    """The smallest Hausdorff distance between object ``index`` of ``objects`` and any object of ``others`` (labels
    1..n with (n, 4) ``other_boxes``); the candidates are tried from the lowest ``hausdorff_lower_bounds`` up, and the
    search stops once no bound is below the best found, so thousands of specks cost little."""
    bounds = hausdorff_lower_bounds(box, other_boxes)
    best = np.inf
    for other in np.argsort(bounds, kind="stable"):
        if bounds[other] >= best:
            break
        window = union_window(box, other_boxes[other])
        best = min(best, hausdorff_distance(objects[window] == index, others[window] == other + 1))
    return float(best)


def side_terms(objects: np.ndarray, n_objects: int, others: np.ndarray, n_others: int, overlaps: np.ndarray,
               measure: str) -> tuple[float, float]:
    """(sum over ``objects`` of area x measure to its counterpart, their total area) for one side of one image.

    The counterpart is the other side's object it overlaps most. Without one, Dice is 0 and Hausdorff uses the
    other side's nearest object (the GlaS rule), or the image diagonal when the other side has no object at all.
    Each pair is measured on the window holding both (the pixels outside it belong to neither).
    """
    areas = overlaps[1:].sum(axis=1)
    counterparts = best_counterparts(overlaps)
    boxes, other_boxes = object_boxes(objects, n_objects), object_boxes(others, n_others)
    diagonal = float(np.hypot(*objects.shape))
    weighted = 0.0
    for index, counterpart in enumerate(counterparts, start=1):
        if counterpart:
            window = union_window(boxes[index - 1], other_boxes[counterpart - 1])
            value = MEASURES[measure](objects[window] == index, others[window] == counterpart)
        elif measure == "dice":
            value = 0.0  # overlapping no object, its Dice with any of them is 0
        elif n_others == 0:
            value = diagonal
        else:
            value = nearest_hausdorff(objects, index, boxes[index - 1], others, other_boxes)
        weighted += areas[index - 1] * value
    return weighted, float(areas.sum())


def weighted_object_score(truths: Sequence[np.ndarray], predictions: Sequence[np.ndarray], measure: str,
                          when_empty: float) -> float:
    """The GlaS object-level ``measure`` ("dice" or "hausdorff") over a set of images: each side's area-weighted
    mean over all its objects of the set, the two sides averaged; a side with no object is left out of the
    average, and ``when_empty`` is the score when neither side has one."""
    if measure not in MEASURES:
        raise ValueError(f"unknown object measure {measure!r}; known: {', '.join(MEASURES)}")
    sums = np.zeros(4)  # truth side: weighted sum, area; predicted side: weighted sum, area
    for truth, predicted in paired_images(truths, predictions):
        truth_labels, n_truth = object_labels(truth)
        predicted_labels, n_predicted = object_labels(predicted)
        overlaps = overlap_table(truth_labels, predicted_labels, n_truth, n_predicted)
        sums[:2] += side_terms(truth_labels, n_truth, predicted_labels, n_predicted, overlaps, measure)
        sums[2:] += side_terms(predicted_labels, n_predicted, truth_labels, n_truth, overlaps.T, measure)
    means = [weighted / area for weighted, area in (sums[:2], sums[2:]) if area > 0]
    return float(np.mean(means)) if means else when_empty


def object_dice(truths: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """GlaS object Dice over a set of (H, W) masks or label images (1 is perfect; 1.0 when both sides are empty)."""
    return weighted_object_score(truths, predictions, "dice", when_empty=1.0)


def object_hausdorff(truths: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """GlaS object Hausdorff distance in pixels over a set of (H, W) masks or label images (0 is perfect; 0.0
    when both sides are empty)."""
    return weighted_object_score(truths, predictions, "hausdorff", when_empty=0.0)

