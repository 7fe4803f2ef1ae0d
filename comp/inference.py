"""Apply a finished run to new images: its fold models per feature set, then its chosen fusion recipe."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.errors import CompError
from comp.feature_heads import HEADS
from comp.feature_sets import check_bad_test, feature_requests, extraction_options, feature_set_layout, stack_columns
from comp.features import extract
from comp.fusion import clip, logit
from comp.kfold import saved_fold_models
from comp.runs import Run


def final_recipe(scores: dict) -> tuple[list[str], str, str | None]:
    """(models the final candidate needs, fusion kind: model/blend/stack, clip suffix or None)."""
    name = scores["final"]["name"]
    base = name.removesuffix("+clip")
    if base in ("blend", "stack"):
        details = scores["fusion"][base]
        members = list(details["weights"] if base == "blend" else details["coefficients"])
        return members, base, name if name != base else None
    return [base], "model", name if name != base else None


def fuse_predictions(scores: dict, predictions: dict[str, np.ndarray]) -> np.ndarray:
    """The final candidate's prediction from its members' predictions, exactly as fitted on OOF in training."""
    members, kind, clipped_name = final_recipe(scores)
    if kind == "model":
        fused = predictions[members[0]]
    elif kind == "blend":
        weights = scores["fusion"]["blend"]["weights"]
        fused = sum(weights[name] * predictions[name] for name in members)
    else:
        stack = scores["fusion"]["stack"]
        logits = sum(stack["coefficients"][name] * logit(predictions[name]) for name in members)
        fused = 1.0 / (1.0 + np.exp(-(logits + stack["intercept"])))
    if clipped_name is not None:
        margin = scores["fusion"][clipped_name]["clip"][0]
        fused = clip(fused, margin)
    return np.asarray(fused)


def finished_scores(run: Run) -> dict:
    """scores.json of a run that chose its final model."""
    scores = run.read_json("scores.json")
    if "final" not in scores:
        raise CompError(f"{run.path} did not finish training (no final model in scores.json)")
    return scores


def load_fold_heads(run: Run, scores: dict, name: str) -> list:
    """The fitted head of every fold of model ``name``, in fold order."""
    head_class = HEADS[scores["models"][name]["head"]]
    return [head_class.load(directory) for directory in saved_fold_models(run, scores, name)]


def predict_feature_heads(run: Run, paths: list[str], *, cache_dir: Path) -> np.ndarray:
    """P(class 1) for ``paths`` from a feature-head run: extract, apply every fold model, fuse."""
    config = run.config()["config"]
    scores = finished_scores(run)
    features = extract(paths, feature_requests(config), cache_dir=cache_dir, options=extraction_options(config))
    check_bad_test(features.bad_paths, {})
    layout = feature_set_layout(config)
    members, _, _ = final_recipe(scores)
    predictions = {}
    for name in members:
        model = scores["models"][name]
        views = [stack_columns(features.features, view) for view in layout[model["feature_set"]]]
        per_fold = [np.mean([head.predict_proba(view) for view in views], axis=0)
                    for head in load_fold_heads(run, scores, name)]
        prediction = np.mean(per_fold, axis=0)
        if model.get("clip"):
            prediction = np.clip(prediction, *model["clip"])
        predictions[name] = prediction
    return fuse_predictions(scores, predictions)
