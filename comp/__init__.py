"""comp: shared stages for image competitions; a competition is a small plugin (see ``comp.Competition``)."""

from comp.competition import Competition, Dataset, FoldResult, Metric, ModelSpec, Section, TrainingContext
from comp.errors import CompError
from comp.registry import (
    get_backbone,
    get_competition_class,
    list_backbones,
    list_competitions,
    register_backbone,
    register_competition,
)

__all__ = [
    "Competition", "CompError", "Dataset", "FoldResult", "Metric", "ModelSpec", "Section", "TrainingContext",
    "get_backbone", "get_competition_class", "list_backbones", "list_competitions", "register_backbone",
    "register_competition",
]
