"""comp: shared stages for image competitions; a competition is a small plugin (see ``comp.Competition``).

The public API: the plugin contract, metrics, fusion candidates, the registries and the errors. Stages live in
subpackages that follow the flow: ``comp.io`` (files, config, Kaggle), ``comp.engine`` (folds, tuning, training),
``comp.fusion``, ``comp.vision`` (backbones, features, heads, export), ``comp.report``, ``comp.cli``.
"""

import os

# TensorFlow's best-fit allocator for host memory instead of malloc, which hands every large activation back to the
# kernel and faults it in again next step: `comp bench captcha-final` trained 19.28 images/s instead of 13.35 on one
# batch in memory and predicted 98.2 strips/s instead of 68.5 (2 cores, 2026-11-27). Set before TensorFlow loads.
os.environ.setdefault("TF_CPU_ALLOCATOR_USE_BFC", "true")

from comp.contract import (  # noqa: E402
    Competition,
    Dataset,
    FitContext,
    FoldResult,
    ModelSpec,
    Recipe,
    Section,
    TrainingContext,
)
from comp.errors import CompError, TrialPruned  # noqa: E402
from comp.fusion import Candidate  # noqa: E402
from comp.metrics import Metric  # noqa: E402
from comp.registry import (  # noqa: E402
    create_competition,
    get_competition_class,
    list_competitions,
    register_competition,
)
from comp.vision.backbones import get_backbone, list_backbones, register_backbone  # noqa: E402

__all__ = [
    "Candidate", "CompError", "Competition", "Dataset", "FitContext", "FoldResult", "Metric", "ModelSpec", "Recipe", "Section",
    "TrainingContext", "TrialPruned", "create_competition", "get_backbone", "get_competition_class",
    "list_backbones", "list_competitions", "register_backbone", "register_competition",
]
