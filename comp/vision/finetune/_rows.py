"""Which rows a fold's fine-tuning trains and stops on, and how its predictions are scored per test-time view."""

from __future__ import annotations

import numpy as np

from comp.vision.heads import grouped_split

EPSILON = 1e-7


def inner_split(targets: np.ndarray, groups: np.ndarray, *, fraction: float, seed: int,
                stratify: bool) -> tuple[np.ndarray, np.ndarray]:
    """(rows that train, rows that drive early stopping) among a fold's training rows: positions into ``targets``
    ((n,) or (n, K)), every row of one group (the views or crops of one image, the images of one ``group``) on the
    same side, stratified by the group's first target when ``stratify`` and every class allows it."""
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"the early-stopping fraction must be between 0 and 1, not {fraction}")
    groups = np.asarray(groups)
    if len(np.unique(groups)) < 2:
        raise ValueError("an early-stopping split needs at least two images")
    if stratify:
        _, first_row = np.unique(groups, return_index=True)
        _, counts = np.unique(targets[first_row], return_counts=True)
        stratify = counts.min() >= 2 and len(counts) <= fraction * len(first_row)
    return grouped_split(targets, groups, fraction, seed, stratify)


def task_loss(task: str, truth: np.ndarray, prediction: np.ndarray) -> float:
    """The loss the network trains on, of predictions against the truth: binary or per-label cross-entropy, the
    multi-class cross-entropy of class indices (n,) against (n, K) probabilities, or the mean squared error."""
    prediction = np.asarray(prediction, dtype=np.float64)
    if task == "regression":
        return float(np.mean((prediction - truth) ** 2))
    clipped = np.clip(prediction, EPSILON, 1 - EPSILON)
    if task == "multiclass":
        return float(-np.mean(np.log(clipped[np.arange(len(truth)), np.asarray(truth, dtype=int)])))
    return float(-np.mean(truth * np.log(clipped) + (1 - truth) * np.log(1 - clipped)))
