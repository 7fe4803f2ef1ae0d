"""The H&E pathology plugin: SVG outlines -> pixel masks, FCN-8s and U-Net segmenters, scored by pixel F1.

Slides are split into k folds (stratified by their share of positive pixels, grouped by patient when
``patients.csv`` names them); each fold network trains on random augmented tiles and predicts whole slides
with blended overlapping tiles and flip/rot90 views. Each model's decision threshold is then fitted on its
out-of-fold pixels out of fold (the ``+threshold`` candidates); its OOF probability maps go through the post-processing chain
fitted out of fold (``+postprocessing``), several models' maps are fused with weights fitted on OOF pixels
(``fusion``, ``fusion+postprocessing``; ``candidates.py``), and the best candidate writes the masks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp import (
    Competition,
    Dataset,
    Metric,
    Recipe,
    TrainingContext,
    register_competition,
)
from comp.schedules import fold_seconds
from competitions.pathology.bench import run_benchmark
from competitions.pathology.candidates import map_candidates
from competitions.pathology.demo import write_demo
from competitions.pathology.inference import predict_directory
from competitions.pathology.models import check_encoder_weights
from competitions.pathology.reader import read_dataset
from competitions.pathology.recipes import pathology_recipes, segmentation_spec
from competitions.pathology.report import report_sections
from competitions.pathology.scoring import pixel_f1
from competitions.pathology.slides import Slides
from competitions.pathology.submission import check_submission_file, write_submission
from competitions.pathology.threshold_candidate import threshold_candidate

# of --time-budget, what training gets; the rest predicts held-out and test slides in four views and fits the
# post-processing chains and the fusion
TRAINING_SHARE = 0.75
FRACTION_BUCKETS = (0.0, 0.25, 0.5, 0.75)  # label k: positive share above FRACTION_BUCKETS[k - 1]; 0: none


def fraction_label(fraction: float) -> int:
    """Stratification bucket of a slide's positive share: 0 none, then quarters."""
    return int(np.searchsorted(FRACTION_BUCKETS, fraction, side="left")) if fraction > 0 else 0


@register_competition
class PathologyCompetition(Competition):
    name = "pathology"
    title = "H&E slides: cancer regions from SVG outlines, pixel F1 (FCN-8s, U-Nets, post-processing fitted on OOF)"
    metric = Metric("pixel_f1", pixel_f1, "maximize")
    demo_size = 16
    default_models = ("unet", "fcn8s", "unet_squeezenet")
    demo_flags = {"folds": 2, "trials": 0, "unet": {"tile": 64, "widths": "8-16-32", "epochs": 2,
                                                    "steps_per_epoch": 10}, "models": ["unet"]}

    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The tables of ``data_dir`` with every training slide decoded (``inputs["train_slides"]``); label = bucket
        of its positive share, the stratification of the folds."""
        check_encoder_weights(self.chosen_recipes(config), config)  # before any slide is decoded or network fitted
        dataset = read_dataset(data_dir)
        train_slides = Slides.load(dataset.train["path"], dataset.train["svg"].replace("", None))
        dataset.train["label"] = [fraction_label(value) for value in train_slides.positive_fraction()]
        dataset.inputs["train_slides"] = train_slides
        return dataset

    def recipes(self, config: dict) -> dict[str, Recipe]:
        return pathology_recipes(config)

    def models(self, context: TrainingContext) -> list:
        """The specs named by ``models`` in the config; the decoded test slides go to ``inputs["test_slides"]``."""
        config, dataset = context.config, context.dataset
        recipes = self.chosen_recipes(config)
        train_slides = dataset.inputs["train_slides"]
        test_svgs = dataset.test["svg"].replace("", None) if "svg" in dataset.test else None
        test_slides = dataset.inputs["test_slides"] = Slides.load(dataset.test["path"], test_svgs)
        fits = sum(max(1, int(config.get("trials") or 0)) if recipe.tunable else 1 for recipe in recipes.values())
        seconds = fold_seconds(config, TRAINING_SHARE, fits_per_fold=fits)
        return [segmentation_spec(name, recipe, config, train_slides, test_slides, fold_seconds=seconds)
                for name, recipe in recipes.items()]

    def fuse(self, models: list, labels: np.ndarray, fold_of_row: np.ndarray) -> list:
        """Each model with its decision threshold fitted on its OOF pixels out of fold (probabilities stretched so it
        is 0.5; threshold_candidate.py)."""
        return [threshold_candidate(model, labels, fold_of_row, self.metric) for model in models]

    def fuse_in_run(self, models: list, labels: np.ndarray, fold_of_row: np.ndarray,
                    context: TrainingContext) -> list:
        """The ``+threshold`` candidates of ``fuse``, then the candidates made from the models' OOF probability maps
        saved in the run: each model post-processed, their fusion and the fusion post-processed (candidates.py)."""
        return self.fuse(models, labels, fold_of_row) + map_candidates(models, labels, fold_of_row, context,
                                                                       self.metric)

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """Masks, ``submission.csv`` and their zip in the run and under ``submissions/pathology/``."""
        config = run.config()["config"]
        return write_submission(run.path, dataset.test["id"].astype(str).tolist(), test_prediction,
                                dataset.inputs["test_slides"].sizes, output_scale=float(config.get("scale", 0.5)),
                                smoothing_sigma=float(config.get("smoothing_sigma", 2.0)),
                                submissions_root=submissions_root, run_id=run.id)

    def validate_submission_file(self, path: Path, data_dir: Path | None) -> None:
        """The rules ``write_submission`` applies to ``submission.csv`` (and, for the zip, a mask per row)."""
        check_submission_file(path)

    def predict(self, run, data_dir: Path, out: Path | None) -> Path:
        """Masks and ``id,cancer_probability,cancer_fraction`` for DIR/image/*.tiff (or DIR/*.tiff) from the run.
        Not the contract's default: the ``+threshold`` stretch and the masks are pathology's own (see inference.py)."""
        return predict_directory(run, Path(data_dir), Path(out) if out else run.file("predictions.csv"))

    def report_sections(self, run) -> list:
        """Predicted and true outlines over sampled OOF and test images, and the per-image F1 histogram."""
        return report_sections(run)

    def bench(self, data_dir: Path | None = None) -> dict:
        """Training and prediction tiles/s of both networks and seconds per slide (bench.py)."""
        return run_benchmark(data_dir, self.default_config())

    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        return write_demo(out_dir, n=n, seed=seed)
