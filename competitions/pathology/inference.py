"""``comp predict pathology``: a finished run's final model applied to new slides, written like its submission.

The maps take the same steps as training's test prediction: every fold network of the final candidate's model
predicts each slide tile by tile over the test-time views (``SegmentationSpec.predict_test``), the fold maps are
averaged, stretched so the candidate's threshold lands on 0.5, and the masks and CSV are written by the submission's
own code. The plugin keeps this instead of the contract's default ``predict``: the ``+threshold`` stretch is
pathology's own post-processing, which ``comp.fusion`` does not re-apply, and the prediction is a folder of masks
beside the CSV, cut to each slide's size.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from comp.errors import CompError
from comp.fusion import read_final
from comp.io import Run, saved_fold_models
from competitions.pathology.reader import image_files
from competitions.pathology.recipes import (
    final_network,
    pathology_recipes,
    segmentation_spec,
)
from competitions.pathology.scoring import remap_probabilities
from competitions.pathology.slides import Slides
from competitions.pathology.submission import write_masks_and_csv


def slide_paths(data_dir: Path) -> list[Path]:
    """DIR/image/*.tiff when DIR has an image/ folder, else DIR/*.tiff; CompError when there is none."""
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist")
    image_dir = data_dir / "image" if (data_dir / "image").is_dir() else data_dir
    paths = image_files(image_dir)
    if not paths:
        raise CompError(f"no TIFF images in {image_dir} (expected DIR/image/*.tiff or DIR/*.tiff)")
    return paths


def predict_directory(run: Run, data_dir: Path, out: Path) -> Path:
    """Write ``out`` (id,cancer_probability,cancer_fraction) and ``<out stem>_masks/<id>.png`` beside it."""
    config = run.config()["config"]
    final = read_final(run)
    name, threshold = final_network(final)
    paths = slide_paths(data_dir)
    slides = Slides.load(paths)
    recipe = pathology_recipes(config)[name]
    spec = segmentation_spec(name, replace(recipe, params=final.scores["models"][name]["params"]), config,
                             Slides.load([]), slides)
    fold_maps = [spec.predict_test(spec.load_model(directory))
                 for directory in saved_fold_models(run, final.scores, name)]
    maps = remap_probabilities(spec.combine_folds(fold_maps), threshold)
    return write_masks_and_csv(out, out.parent / f"{out.stem}_masks", [path.stem for path in paths], maps,
                               slides.sizes, output_scale=spec.output_geometry.scale,
                               smoothing_sigma=float(config.get("smoothing_sigma", 2.0)))
