"""The competition's metric: Kaggle's log loss of P(dog)."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import log_loss

from comp.metrics import Metric


def binary_log_loss(truth: np.ndarray, probability: np.ndarray) -> float:
    """Kaggle's log loss for P(dog) (shape (n,)), with both classes declared so one-class folds still score."""
    return log_loss(truth, np.clip(probability, 1e-15, 1 - 1e-15), labels=[0, 1])


LOG_LOSS = Metric("log_loss", binary_log_loss, "minimize", probabilistic=True)
