"""Post-processing of probability maps into masks, fitted on OOF: the threshold, then the clean-up steps of
``morphology.py`` in a fixed order (opening, closing, hole filling, small-object removal, watershed split).

The whole chain is one ``comp.fusion.PostProcessing`` step fitted out of fold by ``comp.fusion.postprocessed`` (the
helper every post-processing of the framework uses): for each fold the chain is fitted on the other folds' maps and
masks only and applied to the held-out fold, so no held-out mask ever chooses a parameter of its own fold; the
parameters for new maps are fitted on all OOF rows. Fitting goes step by step: each step's value is chosen from its
grid on the rows after the steps before it, and a step is kept (its value not "off") only when it strictly improves
the metric on those rows. ``step_effects`` then shows what each step did out of fold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from comp.folds import fold_indices
from comp.fusion import Candidate, PostProcessing, postprocessed
from comp.metrics import Metric
from competitions.pathology.morphology import (
    closed,
    filled_holes,
    opened,
    watershed_split,
    without_small_objects,
)
from competitions.pathology.objects import object_f1
from competitions.pathology.scoring import pixel_f1_of_mask_sets

PIXEL_F1 = Metric("pixel_f1", pixel_f1_of_mask_sets, "maximize")  # over sets of (H, W) masks
OBJECT_F1 = Metric("object_f1", object_f1, "maximize")
# each step's value that leaves the maps or masks as they are: ties go to it, so a step must improve to be kept
OFF = {"threshold": 0.5, "opening": 0, "closing": 0, "fill_holes": False, "min_size": 0, "watershed": 0}
# in pixels of the maps (disc radii, object areas, the watershed's minimum distance between gland centres)
GRIDS = {
    "threshold": tuple(round(0.05 * step, 2) for step in range(2, 19) if step != 10),  # 0.1 .. 0.9 but 0.5
    "opening": (1, 2, 4, 8),
    "closing": (1, 2, 4, 8),
    "fill_holes": (True,),
    "min_size": (25, 100, 400, 1600),
    "watershed": (5, 10, 20, 40),
}


def marked(probability_map: np.ndarray, threshold: float) -> np.ndarray:
    """(H, W) boolean mask of the pixels of a (H, W) probability map at or above ``threshold``."""
    probability_map = np.asarray(probability_map)
    if probability_map.ndim != 2:
        raise ValueError(f"a probability map is (H, W), got shape {probability_map.shape}")
    return probability_map >= threshold


STEPS = {"threshold": marked, "opening": opened, "closing": closed, "fill_holes": filled_holes,
         "min_size": without_small_objects, "watershed": watershed_split}  # in the order they are applied


def image_array(images: Sequence[np.ndarray]) -> np.ndarray:
    """(n,) object array of a set of images, each its own (H, W) array: how maps and masks travel as rows."""
    rows = np.empty(len(images), dtype=object)
    for row, image in enumerate(images):
        rows[row] = np.asarray(image)
    return rows


def apply_step(name: str, images: np.ndarray, value) -> np.ndarray:
    """(n,) object array: step ``name`` at ``value`` applied to each of the (n,) images (maps for the threshold,
    masks for the others)."""
    return image_array([STEPS[name](image, value) for image in images])


def apply_chain(probability_maps: np.ndarray, params: dict) -> np.ndarray:
    """(n,) object array of (H, W) masks: the (n,) probability maps through every step at its value in ``params``."""
    images = probability_maps
    for name in STEPS:
        images = apply_step(name, images, params[name])
    return images


def fit_chain(probability_maps: np.ndarray, truths: np.ndarray, metric: Metric, grids: dict) -> dict:
    """Each step's value (JSON-ready, ``OFF`` when it does not improve ``metric``) fitted on these rows: (n,) maps
    and their (n,) truth masks or label images."""
    params = {}
    images = probability_maps
    for name in STEPS:
        values = (OFF[name], *(value for value in grids[name] if value != OFF[name]))
        scores = {value: metric(truths, apply_step(name, images, value)) for value in values}
        params[name] = metric.best(scores)  # the first best: OFF on a tie
        images = apply_step(name, images, params[name])
    return params


def chain_step(grids: dict) -> PostProcessing:
    """The chain as one post-processing step, for ``comp.fusion.postprocessed``."""
    return PostProcessing("masks", partial(fit_chain, grids=grids), apply_chain)


@dataclass(frozen=True)
class FittedPostprocessing:
    """The chain fitted on OOF. ``params``: each step's value fitted on all OOF rows (for new maps);
    ``fold_params[k]``: fold k's values, fitted on the other folds only; ``oof``: (n,) object array of (H, W)
    masks, fold k's rows processed with ``fold_params[k]``; ``score``: ``metric`` on them; ``effects``: one row
    per step (``step_effects``)."""

    metric: str
    params: dict
    fold_params: list[dict]
    oof: np.ndarray
    score: float
    unprocessed_score: float
    effects: list[dict]


def checked_rows(probability_maps: Sequence[np.ndarray], true_masks: Sequence[np.ndarray],
                 fold_of_row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(maps, truths, folds) as (n,) arrays, after checking that every map has its truth's (H, W) shape and that
    there is one fold number per row and at least two folds."""
    maps, truths, folds = image_array(probability_maps), image_array(true_masks), np.asarray(fold_of_row)
    if not len(maps) == len(truths) == len(folds):
        raise ValueError(f"{len(maps)} probability maps, {len(truths)} true masks and {len(folds)} fold numbers: "
                         f"one of each per slide")
    for row, (probability_map, truth) in enumerate(zip(maps, truths)):
        if probability_map.ndim != 2 or probability_map.shape != truth.shape:
            raise ValueError(f"row {row}: probability map {probability_map.shape} and true mask {truth.shape} must "
                             f"be the same (H, W)")
    if folds.ndim != 1 or folds.dtype.kind not in "iu" or len(np.unique(folds)) < 2:
        raise ValueError(f"fold_of_row must be (n,) integer fold numbers naming at least two folds, got {folds!r}")
    return maps, truths, folds


def fit_postprocessing(probability_maps: Sequence[np.ndarray], true_masks: Sequence[np.ndarray],
                       fold_of_row: np.ndarray, metric: Metric = PIXEL_F1,
                       grids: dict | None = None) -> FittedPostprocessing:
    """The chain fitted out of fold on the training slides' OOF probability maps (n of them, each (H, W), values in
    0..1) and true masks (boolean masks or label images of the same sizes), ``fold_of_row`` (n,) their folds.

    ``metric`` scores sets of masks (``PIXEL_F1``, the competition's, or ``OBJECT_F1``); ``grids`` replaces the
    values tried per step (``GRIDS``; each step's ``OFF`` value is always tried first).
    """
    maps, truths, folds = checked_rows(probability_maps, true_masks, fold_of_row)
    unknown = set(grids or {}) - set(STEPS)
    if unknown:
        raise ValueError(f"grids for unknown steps {sorted(unknown)}; the steps: {', '.join(STEPS)}")
    grids = {name: tuple(np.asarray(values).tolist()) for name, values in {**GRIDS, **(grids or {})}.items()}
    unprocessed = apply_step("threshold", maps, OFF["threshold"])
    candidate = Candidate("probabilities", maps, image_array([]), metric(truths, unprocessed),
                          metric.by_fold(truths, unprocessed, folds))
    result = postprocessed(candidate, truths, folds, metric, chain_step(grids))
    params = {name: result.details[name] for name in STEPS}
    fold_params = result.details["fold_params"]
    return FittedPostprocessing(metric.name, params, fold_params, result.oof, result.score, candidate.score,
                                step_effects(maps, truths, folds, fold_params, params))


def step_effects(probability_maps: np.ndarray, truths: np.ndarray, fold_of_row: np.ndarray,
                 fold_params: list[dict], params: dict) -> list[dict]:
    """One row per step, in order: its value fitted on all OOF rows, each fold's value, and the OOF pixel F1 and
    object F1 of all rows before and after it (every fold's rows through its own fold's steps so far; before the
    threshold: the maps marked at 0.5)."""
    images = probability_maps
    unprocessed = apply_step("threshold", probability_maps, OFF["threshold"])
    before = {"pixel_f1": PIXEL_F1(truths, unprocessed), "object_f1": OBJECT_F1(truths, unprocessed)}
    effects = []
    for name in STEPS:
        after = np.empty(len(images), dtype=object)
        for fold, values in enumerate(fold_params):
            _, held_out = fold_indices(fold_of_row, fold)
            after[held_out] = apply_step(name, images[held_out], values[name])
        scores = {"pixel_f1": PIXEL_F1(truths, after), "object_f1": OBJECT_F1(truths, after)}
        effects.append({"step": name, "value": params[name], "fold_values": [values[name] for values in fold_params],
                        **{f"{score}_before": value for score, value in before.items()},
                        **{f"{score}_after": value for score, value in scores.items()}})
        images, before = after, scores
    return effects
