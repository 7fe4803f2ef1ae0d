"""The Dogs vs. Cats Redux plugin: Kaggle layout, log loss, ``id,label`` submission with label = P(dog).

A thin layer over ``comp.vision.ImageClassificationCompetition``: labels from file names, the seed's reference
recipes, the seed's fixed clip beside the searched one, its own submission rules and the calibration section.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from comp import Candidate, Dataset, register_competition
from comp.fusion import task_fusion
from comp.io import save_submission
from comp.tasks import Task
from comp.vision import ImageClassificationCompetition, check_targets_against_folds
from comp.vision.features import FeatureSet
from comp.vision.heads import FeatureHeadSpec
from competitions.dogs.bench import run_benchmark
from competitions.dogs.demo import write_demo
from competitions.dogs.reader import read_dataset, read_test
from competitions.dogs.recipes import (
    LOGISTIC_REFERENCE,
    SEED_CLIP_MARGIN,
    SEED_RECIPE,
    SEED_REFERENCE,
)
from competitions.dogs.report import calibration_section
from competitions.dogs.scoring import LOG_LOSS
from competitions.dogs.submission import check_submission, check_submission_file


@register_competition
class DogsCompetition(ImageClassificationCompetition):
    name = "dogs"
    title = "Dogs vs. Cats Redux: Kernels Edition"
    kaggle_slug = "dogs-vs-cats-redux-kernels-edition"
    metric = LOG_LOSS
    task = Task("binary", ("cat", "dog"))
    demo_flags = {"backbones": ["squeezenet1_1"], "weights": {"squeezenet1_1": "none"}, "trials": 3, "folds": 3}

    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The tables of ``data_dir`` (label 1 = dog, from the file names), once its classes are enough for the
        configured folds and heads."""
        dataset = read_dataset(data_dir)
        dataset.task, dataset.targets = self.task, dataset.labels.astype(int)
        check_targets_against_folds(self.task, dataset.targets, config, dataset.data_dir)
        return dataset

    def reference_specs(self, feature_sets: list[FeatureSet], targets: np.ndarray, task: Task,
                        config: dict) -> list[FeatureHeadSpec]:
        """The two references on the first feature set: the seed's head with its fixed clip, and plain C=1
        logistic regression."""
        reference = feature_sets[0]
        seed_clip = tuple(config.get("seed_clip", (SEED_CLIP_MARGIN, 1 - SEED_CLIP_MARGIN)))
        return [
            FeatureHeadSpec(head="dense", feature_set=reference, labels=targets, task=task,
                            name=f"seed_recipe@{reference.name}", fixed_params=SEED_RECIPE, clip=seed_clip,
                            reference=SEED_REFERENCE.format(low=seed_clip[0], high=seed_clip[1])),
            FeatureHeadSpec(head="logistic", feature_set=reference, labels=targets, task=task,
                            name=f"logistic_c1@{reference.name}", fixed_params={"C": 1.0}, reference=LOGISTIC_REFERENCE),
        ]

    def read_test_images(self, directory: Path) -> pd.DataFrame:
        """The images of ``directory`` named ``N.jpg``, integer ids in id order (``comp predict``'s rows)."""
        return read_test(directory)

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
        """Calibration before and after clipping, then the shared sections (confusion matrix, the most confidently
        wrong images, class activation maps)."""
        return [calibration_section(run), *super().report_sections(run)]

    def bench(self, data_dir: Path | None = None) -> dict:
        """Speed and memory figures (see competitions/dogs/bench.py)."""
        return run_benchmark(data_dir, self.default_config())

    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        return write_demo(out_dir, n=n, seed=seed)
