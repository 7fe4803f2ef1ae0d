"""``images``: any standard image-classification competition with no code (binary, multi-class, multi-label,
regression), read from Kaggle's usual layouts; frozen backbone features, heads tuned under k-fold, fusion on OOF."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from comp import Competition, Dataset, TrainingContext, register_competition
from comp.errors import CompError
from comp.io import save_submission, validate_submission
from comp.metrics import Metric, get_metric
from comp.report import classification_sections
from comp.tasks import Task
from comp.vision.features import build_feature_sets
from comp.vision.heads import FeatureHeadSpec, check_class_counts
from competitions.images.demo import DEMO_TASKS, write_demo
from competitions.images.reader import read_images

logger = logging.getLogger("comp.images")
REFERENCE = "(a) logistic regression, C=1, standardised orig features"


def check_targets_against_folds(task: Task, targets: np.ndarray, config: dict, where: Path) -> None:
    """One line naming the class (or label) with too few training images for the configured folds and heads."""
    n_folds, heads = int(config.get("folds", 5)), config.get("heads", ["logistic", "dense"])
    if task.kind in ("binary", "multiclass"):
        check_class_counts(targets, n_folds=n_folds, heads=heads, class_names=task.classes or None)
    elif task.kind == "multilabel":
        counts = targets.sum(axis=0)
        rarest = int(np.argmin(counts))
        if counts[rarest] < n_folds:
            raise CompError(f"{where}: label {task.classes[rarest]!r} is on {int(counts[rarest])} training image(s); "
                            f"--folds {n_folds} needs at least {n_folds} (fewer folds, or more images of it)")


def submission_frame(dataset: Dataset, prediction: np.ndarray) -> pd.DataFrame:
    """The submission in the sample's format: one probability column per class, or one label column holding the
    arg-max class, the space-joined labels over 0.5 (thresholds are fitted into the probabilities), or the value."""
    task, columns = dataset.task, dataset.inputs["submission_columns"]
    frame = pd.DataFrame({columns[0]: dataset.test["id"].to_numpy()})
    if dataset.inputs["probability_columns"]:
        index = {name: position for position, name in enumerate(task.classes)}
        for column in columns[1:]:
            frame[column] = prediction[:, index[column]]
        return frame
    if task.kind == "multiclass":
        values = np.asarray(task.classes)[np.argmax(prediction, axis=1)]
    elif task.kind == "multilabel":
        values = [" ".join(name for name, on in zip(task.classes, row >= 0.5) if on) for row in prediction]
    elif task.kind == "binary" and task.classes != ("0", "1"):
        values = np.asarray(task.classes)[(prediction >= 0.5).astype(int)]
    else:  # a regression value, or P(class 1) of a 0/1 binary task
        values = prediction
    frame[columns[1]] = values
    return frame


@register_competition
class ImagesCompetition(Competition):
    name = "images"
    title = "Any image classification (binary, multi-class, multi-label, regression) from Kaggle's layouts"
    metric: Metric = get_metric("multi_logloss")  # replaced by the metric read from the data (see ``read``)
    demo_size = 96
    demo_tasks = DEMO_TASKS
    demo_flags = {"backbones": ["squeezenet1_1"], "weights": {"squeezenet1_1": "none"}, "trials": 2, "folds": 3,
                  "heads": ["logistic"]}

    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The layout of ``data_dir``, with the task, metric and submission format inferred (and printed)."""
        layout = read_images(data_dir, config)
        options = {"beta": float(config.get("beta", 2.0))} if layout.metric == "fbeta_samples" else {}
        self.metric = get_metric(layout.metric, **options)  # the data's metric and task: the engine and the default
        self.task = layout.task  # fuse read them after this hook
        logger.info("images: %s", layout.explanation)
        check_targets_against_folds(layout.task, layout.targets, config, Path(data_dir))
        return Dataset(data_dir=Path(data_dir), train=layout.train, test=layout.test,
                       sample_submission=layout.sample_submission, task=layout.task, targets=layout.targets,
                       inputs={"submission_columns": layout.submission_columns,
                               "probability_columns": layout.probability_columns})

    def models(self, context: TrainingContext) -> list:
        """Every head on every feature set, plus the reference: logistic regression C=1 on the orig features."""
        dataset, config = context.dataset, context.config
        feature_sets = build_feature_sets(dataset, config, context.cache_dir)
        targets, task = dataset.truth(), dataset.task
        specs = []
        if config.get("references", True):
            reference = next((s for s in feature_sets if s.name.endswith(".orig")), feature_sets[0])
            specs.append(FeatureHeadSpec(head="logistic", feature_set=reference, labels=targets, task=task,
                                         name=f"logistic_c1@{reference.name}", fixed_params={"C": 1.0},
                                         reference=REFERENCE))
        for feature_set in feature_sets:
            for head in config.get("heads", ["logistic", "dense"]):
                specs.append(FeatureHeadSpec(head=head, feature_set=feature_set, labels=targets, task=task))
        return specs

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """The sample submission's format and id order, validated, then saved."""
        frame = submission_frame(dataset, np.asarray(test_prediction))
        columns = list(frame.columns)
        probability_columns = dataset.inputs["probability_columns"]
        numeric = dataset.task.kind == "regression" or dataset.task.classes == ("0", "1")
        validate_submission(frame, columns=columns, id_column=columns[0], sample=dataset.sample_submission,
                            class_columns=columns[1:] if probability_columns else (),
                            value_columns=columns[1:] if numeric and not probability_columns else (),
                            value_range=(0.0, 1.0) if dataset.task.kind == "binary" else None)
        return save_submission(frame, run_dir=run.path, competition=self.name, run_id=run.id,
                               submissions_root=submissions_root)

    def report_sections(self, run) -> list:
        """Confusion matrix or per-label scores or the predicted-vs-true scatter, and the most confidently wrong
        images, of the final model's OOF predictions (the targets read again from the run's data, by id)."""
        config = run.config()["config"]
        layout = read_images(Path(config["data"]), config)
        position = {identifier: row for row, identifier in enumerate(layout.train["id"])}
        rows = [position[str(identifier)] for identifier in run.rows()["train"]["id"]]
        return classification_sections(run, layout.task, layout.targets[rows])

    def demo(self, out_dir: Path, n: int, seed: int, task: str = "multiclass") -> Path:
        return write_demo(out_dir, n=n, seed=seed, task=task)
