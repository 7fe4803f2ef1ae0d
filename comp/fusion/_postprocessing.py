"""Post-processing chosen for the metric and fitted out of fold: each step's parameters are fitted on the other folds'
OOF rows and applied to the held-out fold, so a post-processed candidate's OOF score is as honest as a model's; the
test prediction uses the parameters fitted on all OOF rows.

Steps: ``clip`` (binary log loss), ``temperature`` (multi-class log loss: temperature scaling, then a class
probability floor), ``thresholds`` (multi-label F-scores: one threshold per label), ``cutpoints`` (regression scored
by quadratic weighted kappa: the optimised grade boundaries of the APTOS winners).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import minimize, minimize_scalar
from scipy.special import softmax

from comp.folds import fold_indices
from comp.fusion._calibration import CLIP_GRID, clip, search_clip
from comp.fusion._candidate import Candidate
from comp.metrics import PROBABILITY_FLOOR, Metric
from comp.tasks import Task

FLOOR_GRID = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 0.01)
THRESHOLD_GRID = tuple(np.round(np.arange(0.05, 0.96, 0.05), 2))


@dataclass(frozen=True)
class PostProcessing:
    """A step fitted on OOF rows: ``fit(predictions, truth, metric) -> params`` (JSON-ready) and
    ``apply(predictions, params) -> predictions`` of the same shape."""

    name: str
    fit: Callable[[np.ndarray, np.ndarray, Metric], dict]
    apply: Callable[[np.ndarray, dict], np.ndarray]


def fit_clip(predictions: np.ndarray, truth: np.ndarray, metric: Metric) -> dict:
    margin, _ = search_clip(predictions, truth, metric, CLIP_GRID)
    return {"clip": [margin, 1.0 - margin]}


def apply_clip(predictions: np.ndarray, params: dict) -> np.ndarray:
    return clip(predictions, params["clip"][0])


def tempered(probabilities: np.ndarray, temperature: float, floor: float) -> np.ndarray:
    """softmax(log p / T), then every class raised to at least ``floor`` and the rows renormalised; (n, K)."""
    logits = np.log(np.clip(probabilities, PROBABILITY_FLOOR, 1.0)) / temperature
    scaled = np.maximum(softmax(logits, axis=1), floor)
    return scaled / scaled.sum(axis=1, keepdims=True)


def fit_temperature(probabilities: np.ndarray, truth: np.ndarray, metric: Metric) -> dict:
    sign = 1.0 if metric.direction == "minimize" else -1.0
    found = minimize_scalar(lambda log_t: sign * metric(truth, tempered(probabilities, float(np.exp(log_t)), 0.0)),
                            bounds=(np.log(0.25), np.log(4.0)), method="bounded", options={"xatol": 1e-3})
    temperature = float(np.exp(found.x))
    floors = {floor: metric(truth, tempered(probabilities, temperature, floor)) for floor in FLOOR_GRID}
    return {"temperature": temperature, "floor": float(metric.best(floors))}


def apply_temperature(probabilities: np.ndarray, params: dict) -> np.ndarray:
    return tempered(probabilities, params["temperature"], params["floor"])


def moved_to_half(probabilities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Each column stretched piecewise linearly so its threshold lands on 0.5 (order kept, 0 and 1 fixed): the labels
    over the thresholds are then the labels over 0.5, and the values stay probabilities. (n, K)."""
    thresholds = np.asarray(thresholds, dtype=float)
    below = 0.5 * probabilities / thresholds
    above = 0.5 + 0.5 * (probabilities - thresholds) / (1.0 - thresholds)
    return np.where(probabilities < thresholds, below, above)


def fit_thresholds(probabilities: np.ndarray, truth: np.ndarray, metric: Metric) -> dict:
    """One threshold per label from a grid, label by label (two passes), each improving the whole metric."""
    thresholds = np.full(probabilities.shape[1], 0.5)
    for _ in range(2):
        for column in range(probabilities.shape[1]):
            scores = {}
            for value in THRESHOLD_GRID:
                trial = thresholds.copy()
                trial[column] = value
                scores[value] = metric(truth, moved_to_half(probabilities, trial))
            thresholds[column] = metric.best(scores)
    return {"thresholds": [float(value) for value in thresholds]}


def apply_thresholds(probabilities: np.ndarray, params: dict) -> np.ndarray:
    return moved_to_half(probabilities, np.asarray(params["thresholds"]))


def graded(values: np.ndarray, cutpoints: np.ndarray) -> np.ndarray:
    """Grade 0..len(cutpoints) of each value: how many cut-points it passes; (n,) floats."""
    return np.searchsorted(np.sort(cutpoints), values, side="right").astype(float)


def fit_cutpoints(values: np.ndarray, truth: np.ndarray, metric: Metric) -> dict:
    """Cut-points between the grades, from the midpoints, moved by Nelder-Mead to optimise the metric."""
    grades = np.unique(np.rint(truth).astype(int))
    start = (grades[:-1] + grades[1:]) / 2.0
    sign = 1.0 if metric.direction == "minimize" else -1.0
    found = minimize(lambda cuts: sign * metric(truth, grades[0] + graded(values, cuts)), start,
                     method="Nelder-Mead", options={"xatol": 1e-3, "fatol": 1e-6, "maxiter": 400})
    cuts = np.sort(found.x) if sign * metric(truth, grades[0] + graded(values, found.x)) <= \
        sign * metric(truth, grades[0] + graded(values, start)) else start
    return {"cutpoints": [float(value) for value in cuts], "lowest_grade": int(grades[0])}


def apply_cutpoints(values: np.ndarray, params: dict) -> np.ndarray:
    return params["lowest_grade"] + graded(values, np.asarray(params["cutpoints"]))


STEPS = {
    "clip": PostProcessing("clip", fit_clip, apply_clip),
    "temperature": PostProcessing("temperature", fit_temperature, apply_temperature),
    "thresholds": PostProcessing("thresholds", fit_thresholds, apply_thresholds),
    "cutpoints": PostProcessing("cutpoints", fit_cutpoints, apply_cutpoints),
}


def postprocessing_steps(task: Task, metric: Metric) -> list[PostProcessing]:
    """The steps that can help ``metric`` on ``task``'s predictions."""
    if task.kind == "binary" and metric.scores == "probabilities":
        return [STEPS["clip"]]
    if task.kind == "multiclass" and metric.scores == "probabilities":
        return [STEPS["temperature"]]
    if task.kind == "multilabel" and metric.scores == "labels":
        return [STEPS["thresholds"]]
    if task.kind == "regression" and metric.name == "qwk":
        return [STEPS["cutpoints"]]
    return []


def prediction_array(predictions: np.ndarray) -> np.ndarray:
    """A float copy of ``predictions``; an object array (one item per row, e.g. each image's probability map at its
    own size) is copied as it is, so a step can post-process rows that are not numbers."""
    predictions = np.asarray(predictions)
    return predictions.copy() if predictions.dtype == object else predictions.astype(float)


def postprocessed(candidate: Candidate, truth: np.ndarray, fold_of_row: np.ndarray, metric: Metric,
                  step: PostProcessing) -> Candidate:
    """``candidate`` with ``step`` fitted out of fold (see the module docstring); its details keep the parameters
    fitted on all OOF rows (applied to the test prediction) and each fold's."""
    oof = prediction_array(candidate.oof)
    fold_params = []
    for fold in range(fold_of_row.max() + 1):
        fit_rows, held_out = fold_indices(fold_of_row, fold)
        params = step.fit(candidate.oof[fit_rows], truth[fit_rows], metric)
        oof[held_out] = step.apply(candidate.oof[held_out], params)
        fold_params.append(params)
    params = step.fit(candidate.oof, truth, metric)
    return Candidate(
        name=f"{candidate.name}+{step.name}",
        oof=oof,
        test=step.apply(prediction_array(candidate.test), params),
        score=metric(truth, oof),
        fold_scores=metric.by_fold(truth, oof, fold_of_row),
        details={**candidate.details, **params, "postprocessing": step.name, "fold_params": fold_params,
                 "unprocessed_score": candidate.score},
    )


def clipped(candidate: Candidate, truth: np.ndarray, fold_of_row: np.ndarray, metric: Metric,
            reference_margin: float | None = None) -> Candidate:
    """``candidate`` with its clip margin searched out of fold; with ``reference_margin`` (a fixed margin, e.g. the
    seed's 0.005, fitted on nothing) the OOF score at that margin is reported beside."""
    result = postprocessed(candidate, truth, fold_of_row, metric, STEPS["clip"])
    if reference_margin is not None:
        result.details["score_at_reference_clip"] = metric(truth, clip(candidate.oof, reference_margin))
        result.details["reference_clip"] = [reference_margin, 1.0 - reference_margin]
    return result
