"""Fine-tuned networks for image classification: a registry backbone and a new head trained end to end under the
run's folds in two phases (head alone on the frozen backbone, then its top blocks), with albumentations in a
``tf.data`` pipeline, per-epoch checkpoints and pruning, test-time views, and a second round on leak-free
pseudo-labels (``finetune_specs``: what ``--finetune`` and ``--pseudo-labels`` add to a run)."""

from comp.vision.finetune._augment import Augmenter, build_augmentation
from comp.vision.finetune._bench import finetune_throughput
from comp.vision.finetune._blocks import backbone_blocks, set_backbone_trainable
from comp.vision.finetune._checkpoint import Checkpoint, FitState
from comp.vision.finetune._export import finetuned_output
from comp.vision.finetune._fit import FitPlan, fine_tune
from comp.vision.finetune._inputs import (
    decoded_training_images,
    labelled_batches,
    training_batches,
    view_batches,
)
from comp.vision.finetune._network import (
    OUTPUTS,
    backbone_of,
    build_network,
    network_targets,
    prepare_phase,
    seed_average,
    training_loss,
)
from comp.vision.finetune._options import FINETUNE_START, FinetuneOptions, finetune_backbones, finetune_options
from comp.vision.finetune._pseudo import PseudoLabels, confidence, confidence_threshold, hard_targets
from comp.vision.finetune._report import finetune_section
from comp.vision.finetune._rows import inner_split, task_loss
from comp.vision.finetune._spec import FinetuneSpec, finetune_specs

__all__ = [
           "FINETUNE_START",
           "OUTPUTS",
           "Augmenter",
           "Checkpoint",
           "FinetuneOptions",
           "FinetuneSpec",
           "FitPlan",
           "FitState",
           "PseudoLabels",
           "backbone_blocks",
           "backbone_of",
           "build_augmentation",
           "build_network",
           "confidence",
           "confidence_threshold",
           "decoded_training_images",
           "fine_tune",
           "finetune_backbones",
           "finetune_options",
           "finetune_section",
           "finetune_specs",
           "finetune_throughput",
           "finetuned_output",
           "hard_targets",
           "inner_split",
           "labelled_batches",
           "network_targets",
           "prepare_phase",
           "seed_average",
           "set_backbone_trainable",
           "task_loss",
           "training_batches",
           "training_loss",
           "view_batches",
]
