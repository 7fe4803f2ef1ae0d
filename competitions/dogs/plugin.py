"""The Dogs vs. Cats Redux plugin: Kaggle layout, log loss, ``id,label`` submission with label = P(dog)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from comp import Candidate, CompError, Competition, Dataset, TrainingContext, register_competition
from comp.fusion import task_fusion
from comp.io import save_submission
from comp.tasks import Task
from comp.vision.features import FeatureSet, build_feature_sets, prediction_feature_sets
from comp.vision.heads import FeatureHeadSpec, check_class_counts, pipeline_model
from competitions.dogs.bench import run_benchmark
from competitions.dogs.demo import write_demo
from competitions.dogs.reader import read_dataset, read_test
from competitions.dogs.recipes import (
    LOGISTIC_REFERENCE,
    SEED_CLIP_MARGIN,
    SEED_RECIPE,
    SEED_REFERENCE,
)
from competitions.dogs.report import report_sections
from competitions.dogs.scoring import LOG_LOSS
from competitions.dogs.submission import check_submission, check_submission_file


def head_specs(feature_sets: list[FeatureSet], labels: np.ndarray, config: dict) -> list[FeatureHeadSpec]:
    """Both heads on every feature set, plus the two references: the seed recipe and plain C=1 logistic."""
    reference = feature_sets[0]
    seed_clip = tuple(config.get("seed_clip", (SEED_CLIP_MARGIN, 1 - SEED_CLIP_MARGIN)))
    specs = [] if not config.get("references", True) else [
        FeatureHeadSpec(head="dense", feature_set=reference, labels=labels, name=f"seed_recipe@{reference.name}",
                        fixed_params=SEED_RECIPE, clip=seed_clip,
                        reference=SEED_REFERENCE.format(low=seed_clip[0], high=seed_clip[1])),
        FeatureHeadSpec(head="logistic", feature_set=reference, labels=labels,
                        name=f"logistic_c1@{reference.name}", fixed_params={"C": 1.0},
                        reference=LOGISTIC_REFERENCE),
    ]
    for feature_set in feature_sets:
        for head in config.get("heads", ["logistic", "dense"]):
            specs.append(FeatureHeadSpec(head=head, feature_set=feature_set, labels=labels))
    return specs


def check_classes(labels: np.ndarray, config: dict) -> None:
    """Enough cats and dogs for the configured folds and heads (``check_class_counts``)."""
    check_class_counts(labels, n_folds=int(config.get("folds", 5)), heads=config.get("heads", ["logistic", "dense"]),
                       class_names=("cat", "dog"))


@register_competition
class DogsCompetition(Competition):
    name = "dogs"
    title = "Dogs vs. Cats Redux: Kernels Edition"
    kaggle_slug = "dogs-vs-cats-redux-kernels-edition"
    metric = LOG_LOSS
    task = Task("binary", ("cat", "dog"))
    demo_flags = {"backbones": ["squeezenet1_1"], "weights": {"squeezenet1_1": "none"}, "trials": 3, "folds": 3}

    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The tables of ``data_dir``, once its classes are enough for the configured folds and heads."""
        dataset = read_dataset(data_dir)
        check_classes(dataset.labels, config)
        return dataset

    def models(self, context: TrainingContext) -> list:
        """Both heads on every feature set, plus the two references (``head_specs``)."""
        feature_sets = build_feature_sets(context.dataset, context.config, context.cache_dir)
        check_classes(context.dataset.labels, context.config)  # again, without the undecodable images dropped
        return head_specs(feature_sets, context.dataset.labels, context.config)

    def read_new(self, data_dir: Path, config: dict) -> Dataset:
        """``comp predict``'s rows: the images of ``data_dir/test`` (or of ``data_dir`` itself), no training rows."""
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise CompError(f"data directory {data_dir} does not exist")
        test = read_test(data_dir / "test" if (data_dir / "test").is_dir() else data_dir)
        return Dataset(data_dir=data_dir, train=pd.DataFrame({"id": [], "path": [], "label": []}), test=test)

    def prediction_models(self, context: TrainingContext) -> list:
        """The same specs on the new images' features alone: their fold heads are loaded, not fitted, so no
        training features are extracted. The default ``predict`` then writes ``id,label`` (P(dog)) with
        ``write_submission``, by default to RUN/predictions.csv."""
        feature_sets = prediction_feature_sets(context.dataset.test["path"].tolist(), context.config,
                                               context.cache_dir)
        return head_specs(feature_sets, context.dataset.labels, context.config)

    def fuse(self, models: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray) -> list[Candidate]:
        """Blend, stack and searched clips, with each clipped candidate's score at the seed's fixed clip beside."""
        return task_fusion(models, labels, fold_of_row, self.metric, self.task, reference_clip=SEED_CLIP_MARGIN)

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """``id,label`` in the sample submission's order (test id order without one), validated, then saved."""
        frame = pd.DataFrame({"id": dataset.test["id"].to_numpy(), "label": np.asarray(test_prediction, float)})
        if dataset.sample_submission is not None:
            frame = frame.set_index("id").loc[dataset.sample_submission["id"]].reset_index()
        check_submission(frame, dataset.sample_submission)
        return save_submission(frame, run_dir=run.path, competition=self.name, run_id=run.id,
                               submissions_root=submissions_root)

    def validate_submission_file(self, path: Path, data_dir: Path | None) -> None:
        """The rules ``write_submission`` applies: header ``id,label``, the ids of sample_submission.csv (else of the
        test images) in its order when ``data_dir`` has them, P(dog) finite in [0, 1]."""
        check_submission_file(path, data_dir)

    def report_sections(self, run) -> list:
        """Calibration before and after clipping, the most confidently wrong images, class activation maps."""
        return report_sections(run)

    def export_model(self, run):
        """The final model as one network: raw image -> backbones -> every fold head -> fusion -> P(dog)."""
        return pipeline_model(run)

    def bench(self, data_dir: Path | None = None) -> dict:
        """Speed and memory figures (see competitions/dogs/bench.py)."""
        return run_benchmark(data_dir, self.default_config())

    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        return write_demo(out_dir, n=n, seed=seed)
