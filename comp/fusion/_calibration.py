"""Post-processing fitted on OOF predictions: the clip margin of probabilities (log loss punishes certainty)."""

from __future__ import annotations

import numpy as np

from comp.metrics import Metric

CLIP_GRID = (0.0, 0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05)


def clip(predictions: np.ndarray, margin: float) -> np.ndarray:
    """Clip probabilities into [margin, 1 - margin]."""
    return np.clip(predictions, margin, 1.0 - margin)


def search_clip(oof: np.ndarray, labels: np.ndarray, metric: Metric, grid=CLIP_GRID) -> tuple[float, float]:
    """The clip margin from ``grid`` with the best OOF metric, and that metric."""
    scores = {margin: metric(labels, clip(oof, margin)) for margin in grid}
    best = min(scores, key=scores.get) if metric.direction == "minimize" else max(scores, key=scores.get)
    return best, scores[best]
