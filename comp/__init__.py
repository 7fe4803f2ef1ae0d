"""comp: shared stages for image competitions; a competition is a small plugin (see ``comp.Competition``).

The public API: the plugin contract, metrics, fusion candidates, the registries and the errors. Stages live in
subpackages that follow the flow: ``comp.io`` (files, config, Kaggle), ``comp.engine`` (folds, tuning, training),
``comp.fusion``, ``comp.vision`` (backbones, features, heads, export), ``comp.report``, ``comp.cli``.
"""

from comp._host_memory import configure_host_memory

# Before TensorFlow loads: its best-fit host allocator and glibc's reuse of freed blocks (comp/_host_memory.py: the
# allocator trained the captcha-final CRNN a third faster on 2 cores; the malloc settings took its page faults a
# step from 37,387 to 1,117).
configure_host_memory()

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
