"""Apply a finished run to new images: its fold models per feature set, then its chosen fusion recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.engine import FinalCandidate, read_final, saved_fold_models
from comp.fusion import clip, logit
from comp.io import Run
from comp.vision._callbacks import check_unreadable_test
from comp.vision.features import (
    MEAN_FEATURES,
    extract,
    extraction_options,
    feature_requests,
    feature_set_layout,
    stack_columns,
)
from comp.vision.heads._head_specs import HEADS


def fuse_predictions(final: FinalCandidate, predictions: dict[str, np.ndarray]) -> np.ndarray:
    """The final candidate's prediction from its members' predictions, exactly as fitted on OOF in training."""
    fusion = final.scores.get("fusion", {})
    if final.kind == "model":
        fused = predictions[final.members[0]]
    elif final.kind == "blend":
        weights = fusion["blend"]["weights"]
        fused = sum(weights[name] * predictions[name] for name in final.members)
    else:
        stack = fusion["stack"]
        logits = sum(stack["coefficients"][name] * logit(predictions[name]) for name in final.members)
        fused = 1.0 / (1.0 + np.exp(-(logits + stack["intercept"])))
    if final.postprocessing == "clip":
        fused = clip(fused, final.details["clip"][0])
    return np.asarray(fused)


def load_fold_heads(run: Run, scores: dict, name: str) -> list:
    """The fitted head of every fold of model ``name`` (``scores``: the run's scores.json), in fold order."""
    head_class = HEADS[scores["models"][name]["head"]]
    return [head_class.load(directory) for directory in saved_fold_models(run, scores, name)]


def predict_feature_heads(run: Run, paths: list[str], *, cache_dir: Path) -> np.ndarray:
    """P(class 1) for ``paths`` from a feature-head run: extract, apply every fold model, fuse."""
    config = run.config()["config"]
    final = read_final(run)
    scores = final.scores
    features = extract(paths, feature_requests(config), cache_dir=cache_dir, options=extraction_options(config))
    check_unreadable_test(features.bad_paths, {}, remedy=MEAN_FEATURES)
    layout = feature_set_layout(config)
    predictions = {}
    for name in final.members:
        model = scores["models"][name]
        views = [stack_columns(features.features, view) for view in layout[model["feature_set"]]]
        per_fold = [np.mean([head.predict_proba(view) for view in views], axis=0)
                    for head in load_fold_heads(run, scores, name)]
        prediction = np.mean(per_fold, axis=0)
        if model.get("clip"):
            prediction = np.clip(prediction, *model["clip"])
        predictions[name] = prediction
    return fuse_predictions(final, predictions)
