"""The shared image-classification competition: frozen backbone features, heads for the task tuned under k-fold,
fusion and post-processing on OOF, a submission in the sample's format and the task's report sections. A competition
subclasses it and gives only ``read`` (a Dataset with its task and targets) and ``metric``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from comp.contract import Competition, Dataset, TrainingContext
from comp.errors import CompError
from comp.io import Run, save_submission, validate_submission, write_array
from comp.report import classification_sections
from comp.tasks import Task
from comp.vision._activation_section import cam_section
from comp.vision.features import FeatureSet, build_feature_sets, image_files, prediction_feature_sets
from comp.vision.finetune import (
    finetune_backbones,
    finetune_section,
    finetune_specs,
    finetune_throughput,
    finetuned_output,
)
from comp.vision.heads import FeatureHeadSpec, check_class_counts, pipeline_model

REFERENCE = "(a) logistic regression, C=1, standardised orig features"
TARGETS_FILE = "targets.npy"  # the training targets in the run's row order, for the report
PREDICTION_FILE = "classification.json"  # the task and submission format, for comp predict
BENCH_IMAGES = 128  # training images `comp bench` fine-tunes on


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


def submission_format(dataset: Dataset) -> tuple[list[str], bool]:
    """(the submission header, whether it has one probability column per class): from ``dataset.inputs`` when
    ``read`` put them there, else ``id`` and one column per class (multi-class) or ``id,label``."""
    task = dataset.task
    default = (["id", *task.classes], True) if task.kind == "multiclass" else (["id", "label"], False)
    return (dataset.inputs.get("submission_columns", default[0]),
            dataset.inputs.get("probability_columns", default[1]))


def submission_frame(dataset: Dataset, prediction: np.ndarray) -> pd.DataFrame:
    """The submission in the sample's format: one probability column per class, or one label column holding the
    arg-max class, the space-joined labels over 0.5 (thresholds are fitted into the probabilities), or the value."""
    task = dataset.task
    columns, probability_columns = submission_format(dataset)
    frame = pd.DataFrame({columns[0]: dataset.test["id"].to_numpy()})
    if probability_columns:
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


class ImageClassificationCompetition(Competition):
    """Base class of image-classification competitions (binary, multi-class, multi-label, regression).

    ``read`` returns a Dataset with ``task`` and ``targets`` (and, for a submission format other than the default,
    ``inputs["submission_columns"]`` and ``inputs["probability_columns"]``); everything else is shared. A plugin may
    replace ``reference_specs`` (the models every report compares the final one with) and add report sections.
    """

    def reference_specs(self, feature_sets: list[FeatureSet], targets: np.ndarray, task: Task,
                        config: dict) -> list[FeatureHeadSpec]:
        """The reference: logistic regression C=1 on the orig features (the first feature set without one)."""
        reference = next((s for s in feature_sets if s.name.endswith(".orig")), feature_sets[0])
        return [FeatureHeadSpec(head="logistic", feature_set=reference, labels=targets, task=task,
                                name=f"logistic_c1@{reference.name}", fixed_params={"C": 1.0}, reference=REFERENCE)]

    def head_specs(self, feature_sets: list[FeatureSet], targets: np.ndarray, task: Task,
                   config: dict) -> list[FeatureHeadSpec]:
        """The references (unless ``references = false``), then every configured head on every feature set."""
        specs = self.reference_specs(feature_sets, targets, task, config) if config.get("references", True) else []
        for feature_set in feature_sets:
            for head in config.get("heads", ["logistic", "dense"]):
                specs.append(FeatureHeadSpec(head=head, feature_set=feature_set, labels=targets, task=task))
        return specs

    def models(self, context: TrainingContext) -> list:
        """The references (``reference_specs``) and every head on every feature set, then the fine-tuned networks
        when the config asks for them (``finetune``, ``pseudo_labels``). What ``comp predict`` needs to read new images
        back (task, submission format) is saved in the run."""
        dataset, config, run = context.dataset, context.config, context.run
        check_targets_against_folds(dataset.task, dataset.truth(), config, dataset.data_dir)
        feature_sets = build_feature_sets(dataset, config, context.cache_dir)
        write_array(run.file(TARGETS_FILE), dataset.truth())
        columns, probability_columns = submission_format(dataset)
        run.write_json(PREDICTION_FILE, {"task": dataset.task.kind, "classes": list(dataset.task.classes),
                                         "submission_columns": columns, "probability_columns": probability_columns})
        return [*self.head_specs(feature_sets, dataset.truth(), dataset.task, config),
                *self.finetuned_specs(dataset, config, run)]

    def finetuned_specs(self, dataset: Dataset, config: dict, run: Run) -> list:
        """``finetune@<backbone>`` (and its pseudo-label round ``finetune_pl@<backbone>``) when the config's
        ``finetune`` (or ``pseudo_labels``) is on; none otherwise."""
        if not (config.get("finetune") or config.get("pseudo_labels")):
            return []
        return finetune_specs(dataset, config, run)

    def read_test_images(self, directory: Path) -> pd.DataFrame:
        """``id`` and ``path`` of the images in ``directory``, ids from their file names (a plugin with its own
        naming rule replaces this)."""
        images = image_files(directory)
        if not images:
            raise CompError(f"no image in {directory} (jpg, jpeg, png, tif, tiff)")
        return pd.DataFrame({"id": list(images), "path": [str(path) for path in images.values()]})

    def read_new(self, data_dir: Path, config: dict) -> Dataset:
        """``comp predict``'s rows: the images of ``data_dir/test`` (or of ``data_dir`` itself, read by
        ``read_test_images``), no training rows."""
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise CompError(f"data directory {data_dir} does not exist")
        test = self.read_test_images(data_dir / "test" if (data_dir / "test").is_dir() else data_dir)
        return Dataset(data_dir=data_dir, train=pd.DataFrame({"id": [], "path": [], "label": []}), test=test)

    def prediction_models(self, context: TrainingContext) -> list:
        """The run's specs on the new images' features alone (their fold heads are loaded, not fitted), with the
        task and submission format the run saved, so ``write_predictions`` writes the run's format."""
        dataset = context.dataset
        if context.run.file(PREDICTION_FILE).exists():
            saved = context.run.read_json(PREDICTION_FILE)
            dataset.task = Task(saved["task"], tuple(saved["classes"]))
            dataset.inputs.update(submission_columns=saved["submission_columns"],
                                  probability_columns=saved["probability_columns"])
        elif self.task is not None:  # a run trained before the task was saved: the plugin's declared task
            dataset.task = self.task
        else:
            raise CompError(f"{context.run.path} has no {PREDICTION_FILE}: train the run again with this comp")
        feature_sets = prediction_feature_sets(dataset.test["path"].tolist(), context.config, context.cache_dir)
        no_targets = np.zeros((0, dataset.task.n_outputs) if dataset.task.kind == "multilabel" else 0)
        return [*self.head_specs(feature_sets, no_targets, dataset.task, context.config),
                *self.finetuned_specs(dataset, context.config, context.run)]

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """The sample submission's format and id order, validated, then saved."""
        frame = submission_frame(dataset, np.asarray(test_prediction))
        columns = list(frame.columns)
        _, probability_columns = submission_format(dataset)
        numeric = dataset.task.kind == "regression" or dataset.task.classes == ("0", "1")
        validate_submission(frame, columns=columns, id_column=columns[0], sample=dataset.sample_submission,
                            class_columns=columns[1:] if probability_columns else (),
                            value_columns=columns[1:] if numeric and not probability_columns else (),
                            value_range=(0.0, 1.0) if dataset.task.kind == "binary" else None)
        return save_submission(frame, run_dir=run.path, competition=self.name, run_id=run.id,
                               submissions_root=submissions_root)

    def report_sections(self, run: Run) -> list:
        """The task's sections of the final model's OOF predictions (confusion matrix, per-label scores or the
        predicted-vs-true scatter, and the most confidently wrong images), then class activation maps of test images
        (the predicted class, and the config's ``cam_class``), and the fine-tuned networks' views and pseudo-label
        rounds when the run has them."""
        scores = run.read_json("scores.json")
        task = Task(scores["task"]["kind"], tuple(scores["task"]["classes"]))
        finetuned = finetune_section(scores)
        return [*classification_sections(run, task, np.load(run.file(TARGETS_FILE))),
                cam_section(run, task, run.rows()["test"], run.config()["config"].get("cam_class")),
                *([finetuned] if finetuned else [])]

    def bench(self, data_dir: Path | None = None) -> dict:
        """Fine-tuning throughput and peak memory (``comp.vision.finetune.finetune_throughput``) on up to
        ``BENCH_IMAGES`` training images of ``data_dir`` (generated demo data without it), with the default config's
        first fine-tuned backbone on random weights (the same compute as pretrained ones)."""
        config = self.default_config()
        with tempfile.TemporaryDirectory(prefix="comp-bench-") as scratch:
            data_dir = Path(data_dir) if data_dir else self.demo(Path(scratch) / "demo", BENCH_IMAGES, 0)
            paths = self.read(data_dir, config).train["path"].astype(str).tolist()[:BENCH_IMAGES]
            return {"data": str(data_dir), "finetune_training": finetune_throughput(
                paths, finetune_backbones(config)[0], "none")}

    def export_model(self, run: Run):
        """The final model as one network: raw image -> backbones -> every fold head -> fusion -> post-processing ->
        the task's prediction ((N, 1) or (N, K)); fine-tuned members as their fold networks on the test-time views."""
        return pipeline_model(run, network_output=finetuned_output)
