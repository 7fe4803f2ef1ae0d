"""comp: shared stages for image competitions; a competition is a small plugin (see ``comp.Competition``).

The public API: the plugin contract, metrics, fusion candidates, the registries and the errors. Stages live in
subpackages that follow the flow: ``comp.io`` (files, config, Kaggle), ``comp.engine`` (folds, tuning, training),
``comp.fusion``, ``comp.vision`` (backbones, features, heads, export), ``comp.report``, ``comp.cli``.
"""

from comp.contract import (
    Competition,
    Dataset,
    FitContext,
    FoldResult,
    ModelSpec,
    Recipe,
    Section,
    TrainingContext,
)
from comp.errors import CompError, TrialPruned
from comp.fusion import Candidate
from comp.metrics import Metric
from comp.registry import (
    create_competition,
    get_competition_class,
    list_competitions,
    register_competition,
)
from comp.vision.backbones import get_backbone, list_backbones, register_backbone

__all__ = [
    "Candidate", "CompError", "Competition", "Dataset", "FitContext", "FoldResult", "Metric", "ModelSpec", "Recipe", "Section",
    "TrainingContext", "TrialPruned", "create_competition", "get_backbone", "get_competition_class",
    "list_backbones", "list_competitions", "register_backbone", "register_competition",
]
