"""Object-level scores of a folder of predicted 0/255 PNG masks against the truth (``python -m
competitions.pathology``): object F1, object Dice and object Hausdorff, in pixels of the masks.

The truth's objects are its glands: the outlines of ``labels/<stem>.svg`` beside the truth folder when there is one
(one object per outline, so touching glands stay apart, as in the GlaS label images), else the 8-connected
components of the truth PNG.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.errors import CompError
from competitions.pathology.masks import rasterise_objects, read_truth_png
from competitions.pathology.objects import object_dice, object_f1, object_hausdorff
from competitions.pathology.svg import read_polygons


def truth_objects(truth_file: Path) -> np.ndarray:
    """The (H, W) objects of one truth mask: a label image from ``../labels/<stem>.svg`` when present, else the 0/1
    mask itself."""
    mask = read_truth_png(truth_file)
    svg = truth_file.parent.parent / "labels" / f"{truth_file.stem}.svg"
    if not svg.is_file():
        return mask
    return rasterise_objects(read_polygons(svg), mask.shape, mask.shape)


def object_scores_of_folders(predicted_dir: str | Path, truth_dir: str | Path) -> dict:
    """Object F1, object Dice and object Hausdorff of the PNG masks of ``predicted_dir`` against those of the same
    names in ``truth_dir`` (every truth mask needs its prediction, of its size)."""
    truths, predictions = [], []
    for truth_file in sorted(Path(truth_dir).glob("*.png")):
        predicted_file = Path(predicted_dir) / truth_file.name
        if not predicted_file.is_file():
            raise CompError(f"no predicted mask {predicted_file} for {truth_file}")
        truths.append(truth_objects(truth_file))
        predictions.append(read_truth_png(predicted_file) > 0)
        if truths[-1].shape != predictions[-1].shape:
            raise CompError(f"{predicted_file} and {truth_file} differ in size")
    return {"object_f1": object_f1(truths, predictions), "object_dice": object_dice(truths, predictions),
            "object_hausdorff": object_hausdorff(truths, predictions)}
