"""Pixel F1 over a whole set: per-image probability histograms split by truth, the threshold search, mask scoring.

Each image's prediction is summarised as ``(2, BINS)`` pixel counts (row 0: truth negative, row 1: truth
positive; column b: predicted probability in [b/BINS, (b+1)/BINS)). Summing them over images gives the set's
true/false positives at every threshold, so F1 over all pixels of any subset is exact and cheap.

``python -m competitions.pathology PREDICTED_DIR TRUTH_DIR`` (``__main__.py``) scores a folder of 0/255 PNG masks
against the truth masks of the same names (e.g. a run's ``masks/`` against ``test/masks``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from comp.errors import CompError
from competitions.pathology.masks import read_truth_png

BINS = 256


def f1_from_counts(true_positive: float, false_positive: float, false_negative: float) -> float:
    """2TP / (2TP + FP + FN); 1.0 when there is nothing to find and nothing was marked."""
    denominator = 2 * true_positive + false_positive + false_negative
    return 1.0 if denominator == 0 else float(2 * true_positive / denominator)


def mask_counts(truth: np.ndarray, predicted: np.ndarray) -> tuple[int, int, int]:
    """(true positive, false positive, false negative) pixels of binary masks (any shape; non-zero is positive)."""
    truth, predicted = np.asarray(truth) > 0, np.asarray(predicted) > 0
    if truth.shape != predicted.shape:
        raise ValueError(f"mask shapes differ: truth {truth.shape}, prediction {predicted.shape}")
    true_positive = np.count_nonzero(truth & predicted)
    return true_positive, np.count_nonzero(predicted) - true_positive, np.count_nonzero(truth) - true_positive


def pixel_f1_of_masks(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Pixel F1 of binary masks (any shape; non-zero is positive)."""
    return f1_from_counts(*mask_counts(truth, predicted))


def paired_images(truths: Sequence[np.ndarray], predictions: Sequence[np.ndarray]
                  ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (truth, prediction) pairs of a set of images given as two equally long sequences (each image its own
    size)."""
    if len(truths) != len(predictions):
        raise ValueError(f"{len(truths)} truth images but {len(predictions)} predictions")
    return list(zip(truths, predictions))


def pixel_f1_of_mask_sets(truths: Sequence[np.ndarray], predictions: Sequence[np.ndarray]) -> float:
    """Pixel F1 over all pixels of a set of images: (H, W) truth and predicted masks paired by position."""
    counts = np.zeros(3, dtype=np.int64)
    for truth, predicted in paired_images(truths, predictions):
        counts += mask_counts(truth, predicted)
    return f1_from_counts(*counts)


def probability_histogram(probabilities: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(2, BINS) int64 pixel counts of ``probabilities`` (0..1) binned, split by the 0/1 ``truth`` of each pixel."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.shape != truth.shape:
        raise ValueError(f"probability map {probabilities.shape} and truth mask {truth.shape} differ in shape")
    bins = np.clip((probabilities * BINS).astype(np.int64), 0, BINS - 1)
    positive = np.asarray(truth) > 0
    return np.stack([np.bincount(bins[~positive], minlength=BINS),
                     np.bincount(bins[positive], minlength=BINS)]).astype(np.int64)


def f1_by_threshold(histograms: np.ndarray) -> np.ndarray:
    """F1 over the summed ``histograms`` (..., 2, BINS) when pixels in bin >= k are marked, for k = 0..BINS."""
    total = np.asarray(histograms, dtype=np.float64).reshape(-1, 2, BINS).sum(axis=0)
    # marked at threshold k: bins k..BINS-1 (k = BINS marks nothing)
    marked_negative = np.concatenate([np.cumsum(total[0][::-1])[::-1], [0.0]])
    marked_positive = np.concatenate([np.cumsum(total[1][::-1])[::-1], [0.0]])
    positives = total[1].sum()
    denominator = 2 * marked_positive + marked_negative + (positives - marked_positive)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.where(denominator > 0, 2 * marked_positive / denominator, 1.0)
    return scores


def pixel_f1(labels: np.ndarray, histograms: np.ndarray, threshold: float = 0.5) -> float:
    """The competition metric: F1 over all pixels of the rows, marking probability >= ``threshold``.

    ``labels`` (the table's stratification buckets) are not needed: the truth is inside the histograms.
    """
    histograms = np.asarray(histograms)
    if histograms.size == 0:
        return 0.0
    if histograms.shape[-2:] != (2, BINS):
        raise ValueError(f"pixel F1 expects (rows, 2, {BINS}) histograms, got {histograms.shape}")
    return float(f1_by_threshold(histograms)[threshold_bin(threshold)])


def threshold_bin(threshold: float) -> int:
    """The first bin counted as positive at ``threshold``."""
    return int(np.clip(np.ceil(threshold * BINS - 1e-9), 0, BINS))


def best_threshold(histograms: np.ndarray, low: float = 0.05, high: float = 0.95) -> tuple[float, float]:
    """(threshold, F1) maximising pixel F1 over the summed histograms, searched in [low, high] in 1/BINS steps."""
    scores = f1_by_threshold(histograms)
    candidates = np.arange(threshold_bin(low), threshold_bin(high) + 1)
    best = candidates[np.argmax(scores[candidates])]
    return best / BINS, float(scores[best])


def remap_probabilities(probabilities: np.ndarray, threshold: float) -> np.ndarray:
    """Stretch probabilities piecewise-linearly so that ``threshold`` lands on 0.5 (0 and 1 stay put)."""
    probabilities = np.asarray(probabilities, dtype=np.float32)
    below = probabilities / (2 * threshold)
    above = 0.5 + (probabilities - threshold) / (2 * (1 - threshold))
    return np.where(probabilities < threshold, below, above).astype(probabilities.dtype)


def remap_histograms(histograms: np.ndarray, threshold: float) -> np.ndarray:
    """``histograms`` after ``remap_probabilities``: each bin moves with its lower edge, exact at the threshold."""
    histograms = np.asarray(histograms)
    edges = np.arange(BINS) / BINS
    moved = np.clip((remap_probabilities(edges, threshold) * BINS + 1e-6).astype(np.int64), 0, BINS - 1)
    result = np.zeros_like(histograms)
    for source, target in enumerate(moved):
        result[..., target] += histograms[..., source]
    return result


def score_mask_folders(predicted_dir: str | Path, truth_dir: str | Path) -> dict:
    """Pixel F1, precision and recall over all pixels of the PNG masks in ``truth_dir`` and their predictions.

    Every truth mask needs a predicted mask of the same name and size; the all-positive mask's F1 (the floor)
    is reported beside it.
    """
    predicted_dir, truth_dir = Path(predicted_dir), Path(truth_dir)
    truth_files = sorted(truth_dir.glob("*.png"))
    if not truth_files:
        raise CompError(f"no truth masks (*.png) in {truth_dir}")
    true_positive = marked = positives = pixels = 0
    for truth_file in truth_files:
        predicted_file = predicted_dir / truth_file.name
        if not predicted_file.is_file():
            raise CompError(f"no predicted mask {predicted_file} for {truth_file}")
        truth, predicted = read_truth_png(truth_file), read_truth_png(predicted_file)
        if truth.shape != predicted.shape:
            raise CompError(f"{predicted_file} is {predicted.shape[1]}x{predicted.shape[0]} but {truth_file} is "
                            f"{truth.shape[1]}x{truth.shape[0]}")
        true_positive += int(np.count_nonzero(truth & predicted))
        marked += int(np.count_nonzero(predicted))
        positives += int(np.count_nonzero(truth))
        pixels += truth.size
    return {"images": len(truth_files), "pixel_f1": f1_from_counts(true_positive, marked - true_positive,
                                                                   positives - true_positive),
            "precision": true_positive / marked if marked else 0.0,
            "recall": true_positive / positives if positives else 0.0,
            "all_positive_f1": f1_from_counts(positives, pixels - positives, 0)}
