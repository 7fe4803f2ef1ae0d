"""Fuse models on their out-of-fold predictions: weighted blend, stacking, clip search, majority vote; and re-apply a
fitted fusion to new rows (``FittedFusion``).

Every fitted choice (blend weights, the stacker, the clip margin) is fitted on the other folds' OOF rows and applied
to the held-out fold, so a fused candidate's OOF score is as honest as a model's; the final fit uses all OOF rows.
The test set is never used.
"""

from comp.fusion._blend import blend, fit_blend_weights
from comp.fusion._calibration import CLIP_GRID, clip, clipped, search_clip
from comp.fusion._candidate import Candidate
from comp.fusion._fitted import FittedFusion
from comp.fusion._stack import LOGIT_MARGIN, logit, stack
from comp.fusion._vote import majority_vote
from comp.metrics import Metric


def probability_fusion(models: list[Candidate], labels, fold_of_row, metric: Metric, *,
                       reference_clip: float | None = None) -> list[Candidate]:
    """Blend and stack of several models, then every model and fusion with its clip searched on OOF (and, with
    ``reference_clip``, its score at that fixed margin reported beside)."""
    fused = []
    if len(models) > 1:
        fused += [blend(models, labels, fold_of_row, metric), stack(models, labels, fold_of_row, metric)]
    return fused + [clipped(candidate, labels, fold_of_row, metric, reference_clip) for candidate in models + fused]


__all__ = ["CLIP_GRID", "Candidate", "FittedFusion", "LOGIT_MARGIN", "blend", "clip", "clipped", "fit_blend_weights",
           "logit", "majority_vote", "probability_fusion", "search_clip", "stack"]
