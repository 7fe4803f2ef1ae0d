"""Fusion of segmentation models: a per-pixel weighted average of their probability maps, the weights fitted on OOF
pixels out of fold (as ``comp.fusion``'s blend fits its weights on the other folds' rows).

The weights are searched on a grid over the simplex (non-negative, summing to one, ``step`` apart); a grid point is
scored by the pixel F1 of the averaged maps over all pixels of the fitting slides at the best threshold (the
threshold is fitted afterwards with the post-processing, so the weights are judged at theirs). Equal weights are
tried first and win ties.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from comp.folds import fold_indices
from competitions.pathology.scoring import f1_by_threshold, probability_histogram


def weight_grid(n_models: int, step: float) -> list[tuple[float, ...]]:
    """Every weight vector of ``n_models`` non-negative multiples of ``step`` summing to one, equal weights first
    (always included, even when ``1 / step`` is not a multiple of ``n_models``)."""
    if n_models < 1 or not 0 < step <= 1:
        raise ValueError(f"a weight grid needs at least one model and a step in (0, 1], got {n_models} and {step}")
    units = round(1 / step)
    grid = [tuple(count / units for count in counts)
            for counts in itertools.product(range(units + 1), repeat=n_models) if sum(counts) == units]
    equal = tuple(1.0 / n_models for _ in range(n_models))
    return [equal] + [weights for weights in grid if not np.allclose(weights, equal)]


def averaged(maps_by_model: list[list[np.ndarray]], weights, rows) -> list[np.ndarray]:
    """The (h, w) float32 weighted averages of the models' maps of slides ``rows``; ``maps_by_model[m][row]`` is
    model m's map of slide ``row``."""
    return [sum(np.float32(weight) * maps[row] for weight, maps in zip(weights, maps_by_model)).astype(np.float32)
            for row in rows]


def best_threshold_f1(maps: list[np.ndarray], truths: list[np.ndarray]) -> float:
    """Pixel F1 over all pixels of the (h, w) maps against their (h, w) truths (non-zero positive) at the threshold
    that maximises it."""
    histogram = sum(probability_histogram(probabilities, truth > 0) for probabilities, truth in zip(maps, truths))
    return float(f1_by_threshold(histogram).max())


def fit_map_weights(maps_by_model: list[list[np.ndarray]], truths: list[np.ndarray], rows,
                    step: float = 0.1) -> tuple[float, ...]:
    """The grid weights whose average of slides ``rows`` scores the highest ``best_threshold_f1`` (the first best)."""
    rows = list(rows)
    truth_rows = [truths[row] for row in rows]
    scores = [best_threshold_f1(averaged(maps_by_model, weights, rows), truth_rows)
              for weights in weight_grid(len(maps_by_model), step)]
    return weight_grid(len(maps_by_model), step)[int(np.argmax(scores))]


@dataclass(frozen=True)
class FusedMaps:
    """The fused OOF maps (``oof[row]``: fold k's rows averaged with ``fold_weights[k]``, fitted on the other folds
    only), the weights fitted on all OOF rows (for the test maps) and the fused test maps."""

    oof: list[np.ndarray]
    test: list[np.ndarray]
    weights: tuple[float, ...]
    fold_weights: list[tuple[float, ...]]


def fuse_maps(oof_by_model: list[list[np.ndarray]], test_by_model: list[list[np.ndarray]], truths: list[np.ndarray],
              fold_of_row: np.ndarray, step: float = 0.1) -> FusedMaps:
    """Fuse the models' OOF maps out of fold and their test maps with the all-rows weights (see the module
    docstring); ``truths`` are the training slides' masks or label images at the maps' sizes. Held-out masks never
    choose their own fold's weights."""
    oof: list[np.ndarray | None] = [None] * len(truths)
    fold_weights = []
    for fold in range(int(fold_of_row.max()) + 1):
        fit_rows, held_out = fold_indices(fold_of_row, fold)
        weights = fit_map_weights(oof_by_model, truths, fit_rows, step)
        for row, fused in zip(held_out, averaged(oof_by_model, weights, held_out)):
            oof[row] = fused
        fold_weights.append(weights)
    weights = fit_map_weights(oof_by_model, truths, range(len(truths)), step)
    test = averaged(test_by_model, weights, range(len(test_by_model[0]))) if test_by_model else []
    return FusedMaps(oof, test, weights, fold_weights)
