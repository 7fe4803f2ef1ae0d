"""Fuse models on their out-of-fold predictions: weighted blend, stacking, post-processing chosen for the metric
(clip, temperature, thresholds, cut-points), majority vote; and re-apply a fitted fusion to new rows (``FittedFusion``).

Every fitted choice (blend weights, the stacker, post-processing parameters) is fitted on the other folds' OOF rows
and applied to the held-out fold, so a fused candidate's OOF score is as honest as a model's; the final fit uses all
OOF rows. The test set is never used.
"""

import numpy as np

from comp.fusion._blend import blend, fit_blend_weights
from comp.fusion._calibration import CLIP_GRID, clip, search_clip
from comp.fusion._candidate import Candidate
from comp.fusion._final import FinalCandidate, read_final
from comp.fusion._fitted import FittedFusion
from comp.fusion._postprocessing import STEPS, PostProcessing, clipped, postprocessed, postprocessing_steps
from comp.fusion._stack import LOGIT_MARGIN, logit, stack
from comp.fusion._vote import majority_vote
from comp.metrics import Metric
from comp.tasks import Task


def task_fusion(models: list[Candidate], truth: np.ndarray, fold_of_row: np.ndarray, metric: Metric,
                task: Task | None = None, *, reference_clip: float | None = None) -> list[Candidate]:
    """The fusion candidates of a classification or regression task (binary when ``task`` is None): the blend and
    the stack of several models, then every model and fusion with the post-processing the metric calls for (clip,
    temperature, per-label thresholds, cut-points), all fitted out of fold. With ``reference_clip`` each clipped
    candidate also reports its OOF score at that fixed margin."""
    task = task or Task("binary")
    fused = []
    if len(models) > 1:
        fused += [blend(models, truth, fold_of_row, metric), stack(models, truth, fold_of_row, metric, task=task)]
    processed = []
    for step in postprocessing_steps(task, metric):
        for candidate in models + fused:
            if step is STEPS["clip"]:
                processed.append(clipped(candidate, truth, fold_of_row, metric, reference_clip))
            else:
                processed.append(postprocessed(candidate, truth, fold_of_row, metric, step))
    return fused + processed


__all__ = ["CLIP_GRID", "STEPS", "Candidate", "FinalCandidate", "FittedFusion", "LOGIT_MARGIN", "PostProcessing", "blend", "clip", "clipped", "fit_blend_weights",
           "logit", "majority_vote", "postprocessed", "postprocessing_steps", "read_final", "search_clip", "stack", "task_fusion"]
