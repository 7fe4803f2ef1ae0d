"""``comp predict pathology``: a finished run's final model applied to new slides, written like its submission.

The maps take the same steps as training's test prediction: every fold network of each model behind the final
candidate predicts each slide tile by tile over the test-time views (``SegmentationSpec.predict_test``), the fold
maps are averaged, the models' maps averaged with the fusion's fitted weights (a ``fusion`` candidate), then
stretched so a ``+threshold`` candidate's threshold lands on 0.5 or put through a ``+postprocessing`` candidate's
fitted chain, and the masks and CSV are written by the submission's own code. The plugin keeps this instead of the
contract's default ``predict``: those steps are pathology's own, which ``comp.fusion`` does not re-apply, and the
prediction is a folder of masks beside the CSV, cut to each slide's size.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from comp.errors import CompError
from comp.fusion import FinalCandidate, read_final
from comp.io import Run, saved_fold_models
from competitions.pathology.oof_maps import cut_maps, padded_maps
from competitions.pathology.postprocessing import apply_chain, image_array
from competitions.pathology.reader import image_files
from competitions.pathology.recipes import pathology_recipes, segmentation_spec
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


def final_maps(run: Run, final: FinalCandidate, slides: Slides) -> np.ndarray:
    """The final candidate's (n, H, W) zero-padded maps of ``slides`` at the output scale, as training made its test
    prediction (see the module docstring)."""
    config = run.config()["config"]
    recipes = pathology_recipes(config)
    member_maps = {}
    for name in final.members:
        spec = segmentation_spec(name, replace(recipes[name], params=final.scores["models"][name]["params"]), config,
                                 Slides.load([]), slides)
        member_maps[name] = spec.combine_folds([spec.predict_test(spec.load_model(directory))
                                                for directory in saved_fold_models(run, final.scores, name)])
    if final.kind == "model":
        maps = member_maps[final.members[0]].astype(np.float32)
    else:
        weights = final.scores["fusion"][final.base]["weights"]
        maps = sum(float(weights[name]) * member_maps[name].astype(np.float32) for name in final.members)
    if final.postprocessing == "threshold":
        return remap_probabilities(maps, float(final.details["threshold"]))
    if final.postprocessing == "postprocessing":
        scale = float(config.get("scale", 0.5))
        masks = apply_chain(image_array(cut_maps(maps, slides.sizes, scale)), final.details["chain"])
        return padded_maps([mask.astype(np.float32) for mask in masks])
    return maps


def predict_directory(run: Run, data_dir: Path, out: Path) -> Path:
    """Write ``out`` (id,cancer_probability,cancer_fraction) and ``<out stem>_masks/<id>.png`` beside it."""
    config = run.config()["config"]
    final = read_final(run)
    paths = slide_paths(data_dir)
    slides = Slides.load(paths)
    return write_masks_and_csv(out, out.parent / f"{out.stem}_masks", [path.stem for path in paths],
                               final_maps(run, final, slides), slides.sizes,
                               output_scale=float(config.get("scale", 0.5)),
                               smoothing_sigma=float(config.get("smoothing_sigma", 2.0)))
