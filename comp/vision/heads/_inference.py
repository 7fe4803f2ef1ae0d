"""A finished feature-head run's fold heads, loaded back for its class activation maps and its export (``comp
predict`` loads them through the spec: ``FeatureHeadSpec.load_model``)."""

from __future__ import annotations

from comp.io import Run, saved_fold_models
from comp.vision.heads._head_specs import HEADS


def load_fold_heads(run: Run, scores: dict, name: str) -> list:
    """The fitted head of every fold of model ``name`` (``scores``: the run's scores.json), in fold order."""
    head_class = HEADS[scores["models"][name]["head"]]
    return [head_class.load(directory) for directory in saved_fold_models(run, scores, name)]
