"""The H&E pathology plugin: SVG outlines -> pixel masks, FCN-8s and U-Net segmenters, scored by pixel F1.

Slides are split into k folds (stratified by their share of positive pixels, grouped by patient when
``patients.csv`` names them); each fold network trains on random augmented tiles and predicts whole slides
with blended overlapping tiles and flip/rot90 views. Each model's decision threshold is then fitted on its
out-of-fold pixels (the ``+threshold`` candidates), and the best candidate writes the masks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.competition import Competition, Dataset, Metric, TrainingContext
from comp.errors import CompError
from comp.registry import register_competition
from competitions.pathology.reader import read_dataset
from competitions.pathology.scoring import best_threshold, pixel_f1, remap_histograms, remap_probabilities
from competitions.pathology.slides import Geometry, Slides
from competitions.pathology.spec import SegmentationSpec

FRACTION_BUCKETS = (0.0, 0.25, 0.5, 0.75)  # label k: positive share above FRACTION_BUCKETS[k - 1]; 0: none
SEED_REFERENCE = "seed recipe: FCN-8s on the whole image shrunk to 256x256"
NETWORKS = {"unet": "unet", "fcn8s": "fcn8s", "seed_fcn8s": "fcn8s"}
THRESHOLD_SUFFIX = "+threshold"  # a model with its decision threshold fitted on OOF pixels


def fraction_label(fraction: float) -> int:
    """Stratification bucket of a slide's positive share: 0 none, then quarters."""
    return int(np.searchsorted(FRACTION_BUCKETS, fraction, side="left")) if fraction > 0 else 0


def segmentation_spec(name: str, params: dict, config: dict, train: Slides, test: Slides) -> SegmentationSpec:
    """Model ``name`` with resolved ``params``: whole images when they give a ``size``, else tiles at ``scale``.

    Training and ``comp predict`` both build their specs here, so a saved fold network sees the same geometry.
    """
    whole = params.get("size")
    output_scale = float(config.get("scale", 0.5))
    geometry = Geometry(size=int(whole)) if whole else Geometry(scale=output_scale)
    return SegmentationSpec(name=name, network=NETWORKS[name], params=params, train=train, test=test, config=config,
                            geometry=geometry, output_scale=output_scale, tunable=name != "seed_fcn8s",
                            reference=SEED_REFERENCE if name == "seed_fcn8s" else None)


@register_competition
class PathologyCompetition(Competition):
    name = "pathology"
    title = "H&E slides: cancer regions from SVG outlines, pixel F1 (FCN-8s, U-Net)"
    metric = Metric("pixel_f1", pixel_f1, "maximize")
    demo_size = 16
    demo_flags = {"folds": 2, "trials": 0, "unet": {"tile": 64, "widths": "8-16-32", "epochs": 2,
                                                    "steps_per_epoch": 10}, "models": ["unet"]}

    def __init__(self):
        self.train_slides: Slides | None = None
        self.test_slides: Slides | None = None
        self.output_scale = 0.5
        self.smoothing_sigma = 2.0

    def read(self, data_dir: Path) -> Dataset:
        """The tables of ``data_dir`` with every training slide decoded; label = bucket of its positive share."""
        dataset = read_dataset(data_dir)
        self.train_slides = Slides.load(dataset.train["path"], dataset.train["svg"].replace("", None))
        dataset.train["label"] = [fraction_label(value) for value in self.train_slides.positive_fraction()]
        return dataset

    def models(self, context: TrainingContext) -> list[SegmentationSpec]:
        """The specs named by ``models`` in the config: ``unet``, ``fcn8s`` (tiled) and ``seed_fcn8s`` (reference)."""
        config, dataset = context.config, context.dataset
        if self.train_slides is None or len(self.train_slides) != len(dataset.train):
            self.train_slides = Slides.load(dataset.train["path"], dataset.train["svg"].replace("", None))
        test_svgs = dataset.test["svg"].replace("", None) if "svg" in dataset.test else None
        self.test_slides = Slides.load(dataset.test["path"], test_svgs)
        self.output_scale = float(config.get("scale", 0.5))
        self.smoothing_sigma = float(config.get("smoothing_sigma", 2.0))
        names = config.get("models") or ["unet", "fcn8s"]
        unknown = [name for name in names if name not in NETWORKS]
        if unknown:
            raise CompError(f"unknown pathology model {unknown[0]!r} in `models`; known: {', '.join(NETWORKS)}")
        specs = []
        for name in names:
            params = dict(config[name])  # config.toml's table under the user's keys (merged per key)
            if "epochs" in params and config.get("epochs"):
                params["epochs"] = int(config["epochs"])
            specs.append(segmentation_spec(name, params, config, self.train_slides, self.test_slides))
        return specs

    def fuse(self, models: list, labels: np.ndarray, fold_of_row: np.ndarray) -> list:
        """Each model with its decision threshold fitted on its OOF pixels (probabilities stretched so it is 0.5)."""
        from comp.fusion import Candidate, score_by_fold

        fused = []
        for model in models:
            threshold, _ = best_threshold(model.oof)
            oof = remap_histograms(model.oof, threshold)
            fused.append(Candidate(model.name + THRESHOLD_SUFFIX, oof, remap_probabilities(model.test, threshold),
                                   self.metric(labels, oof), score_by_fold(self.metric, labels, oof, fold_of_row),
                                   {"threshold": threshold, "score_at_0.5": model.score}))
        return fused

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """Masks, ``submission.csv`` and their zip in the run and under ``submissions/pathology/``."""
        from competitions.pathology.submission import write_submission

        sizes = self.test_slides.sizes if self.test_slides is not None else []
        return write_submission(run.path, dataset.test["id"].astype(str).tolist(), test_prediction, sizes,
                                output_scale=self.output_scale, smoothing_sigma=self.smoothing_sigma,
                                submissions_root=submissions_root, run_id=run.id)

    def predict(self, run, data_dir: Path, out: Path | None) -> Path:
        """Masks and ``id,cancer_probability,cancer_fraction`` for DIR/image/*.tiff (or DIR/*.tiff) from the run."""
        from competitions.pathology.inference import predict_directory

        return predict_directory(run, Path(data_dir), Path(out) if out else run.file("predictions.csv"))

    def report_sections(self, run) -> list:
        """Predicted and true outlines over sampled OOF and test images, and the per-image F1 histogram."""
        from competitions.pathology.report import report_sections

        return report_sections(run)

    def bench(self, data_dir: Path | None = None) -> dict:
        """Training and prediction tiles/s of both networks and seconds per slide (bench.py)."""
        from competitions.pathology.bench import run_benchmark

        return run_benchmark(data_dir, self.default_config())

    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        from competitions.pathology.demo import write_demo

        return write_demo(out_dir, n=n, seed=seed)
