"""Image-specific stages on Keras: backbones (``comp.vision.backbones``), cached bottleneck features
(``comp.vision.features``), heads and what is rebuilt from them (``comp.vision.heads``); here, the Keras pieces every
network shares and ``comp export``."""

from comp.vision._activation_section import cam_section
from comp.vision._callbacks import (
    check_unreadable_test,
    drop_unreadable_training_rows,
    epoch_logger,
    history_floats,
    prune_on_validation_loss,
    scheduled_rate,
)
from comp.vision._classification import (
    ImageClassificationCompetition,
    check_targets_against_folds,
    submission_format,
    submission_frame,
)
from comp.vision._export import FORMATS, export_run
from comp.vision.heads import register_custom_layers

__all__ = ["FORMATS", "ImageClassificationCompetition", "cam_section", "check_targets_against_folds", "submission_format",
           "submission_frame", "check_unreadable_test", "drop_unreadable_training_rows", "epoch_logger", "export_run",
           "history_floats", "prune_on_validation_loss", "register_custom_layers", "scheduled_rate"]
