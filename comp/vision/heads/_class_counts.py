"""Whether k-fold training of the heads can work on a training set's classes, checked before any image is read."""

from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

from comp.errors import CompError
from comp.vision.heads._heads import DenseHead


def check_class_counts(labels: np.ndarray, *, n_folds: int, heads: Iterable[str],
                       class_names: Sequence[str] | None = None) -> None:
    """A one-line CompError when ``labels`` (shape (n,), class indices) are too few for ``n_folds`` folds of
    ``heads``: two classes at least, ``n_folds`` images of each (every fold trains on and holds out each class), and
    for the dense head an early-stopping split (its ``validation_fraction`` of a fold's training images, one view)
    holding every class, with two images of each class in every fold's training rows."""
    values, counts = np.unique(np.asarray(labels), return_counts=True)
    names = [str(class_names[int(value)]) if class_names is not None else str(value) for value in values]
    if len(values) < 2:
        found = f"only class {names[0]} ({counts[0]} images)" if len(values) else "no images"
        raise CompError(f"the training set has {found}; a classifier needs images of at least two classes")
    fewest = int(np.argmin(counts))
    if counts[fewest] < n_folds:
        raise CompError(f"class {names[fewest]} has {counts[fewest]} training image(s); --folds {n_folds} needs at "
                        f"least {n_folds} of each class (add images or lower --folds)")
    if "dense" not in set(heads):
        return
    fraction = DenseHead().validation_fraction
    n_rows = len(labels)
    n_train = n_rows - math.ceil(n_rows / n_folds)  # the training rows of the fold holding out the most
    held_out = math.ceil(fraction * n_train)
    if held_out < len(values):
        needed = next(n for n in range(n_rows, 100 * n_rows + 100)
                      if math.ceil(fraction * (n - math.ceil(n / n_folds))) >= len(values))
        raise CompError(f"the dense head's early stopping holds out {fraction:.0%} of a fold's {n_train} training "
                        f"images ({held_out}), fewer than the {len(values)} classes; use at least {needed} images at "
                        f"--folds {n_folds}, more folds, or heads = [\"logistic\"]")
    in_training = counts - np.ceil(counts / n_folds).astype(int)
    if in_training.min() < 2:
        short = int(np.argmin(in_training))
        raise CompError(f"class {names[short]} has {counts[short]} training image(s), {in_training[short]} in some "
                        f"fold's training rows; the dense head's early-stopping split needs 2 there (add images of "
                        f"{names[short]} or use heads = [\"logistic\"])")
