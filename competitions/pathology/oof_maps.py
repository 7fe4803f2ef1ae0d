"""The probability maps behind a model's OOF and test predictions, as lists of (H, W) float32 maps at the output
scale, one per slide at its own size: what the post-processing and the fusion of models are fitted on and applied to.

OOF maps come from the run's fold cache, where each fold network saved the map of every held-out slide
(``held_out_<row>.npy`` beside ``segmenter.keras``, for the parameters the run's scores.json names); test maps are cut
from the zero-padded (n_test, H, W) test prediction.
"""

from __future__ import annotations

import numpy as np

from comp.errors import CompError
from comp.io import Run, saved_fold_models
from competitions.pathology.slides import Geometry

HELD_OUT_PREFIX = "held_out_"


def oof_maps(run: Run, scores: dict, name: str, n_rows: int) -> list[np.ndarray]:
    """Model ``name``'s held-out map of every one of the ``n_rows`` training slides (row order), read from the fold
    models scores.json names; a CompError naming the first slide without one (runs trained before every held-out
    map was kept)."""
    maps: list[np.ndarray | None] = [None] * n_rows
    directories = saved_fold_models(run, scores, name)
    for directory in directories:
        for file in directory.glob(f"{HELD_OUT_PREFIX}*.npy"):
            row = int(file.stem.removeprefix(HELD_OUT_PREFIX))
            if 0 <= row < n_rows:
                maps[row] = np.load(file).astype(np.float32)
    missing = next((row for row, probabilities in enumerate(maps) if probabilities is None), None)
    if missing is not None:
        raise CompError(f"{name}: no held-out map of training slide {missing} under {directories[0].parent.parent}; "
                        f"post-processing and fusion need every slide's OOF map (runs trained before they were kept "
                        f"have only a sample)")
    return maps


def cut_maps(padded: np.ndarray, sizes: list[tuple[int, int]], output_scale: float) -> list[np.ndarray]:
    """Each slide's (h, w) float32 map cut from a zero-padded (n, H, W) prediction; ``sizes`` are the slides'
    original (height, width), (h, w) their size at ``output_scale``."""
    geometry = Geometry(scale=output_scale)
    maps = []
    for row, size in enumerate(sizes):
        height, width = geometry.working_size(size)
        maps.append(np.asarray(padded[row, :height, :width], dtype=np.float32))
    return maps


def padded_maps(maps: list[np.ndarray]) -> np.ndarray:
    """The (h, w) maps zero-padded into one (n, H, W) float16 array, as a test prediction is stored (an empty
    (0, 1, 1) when there are none)."""
    if not maps:
        return np.zeros((0, 1, 1), dtype=np.float16)
    height, width = max(item.shape[0] for item in maps), max(item.shape[1] for item in maps)
    canvas = np.zeros((len(maps), height, width), dtype=np.float16)
    for row, probabilities in enumerate(maps):
        canvas[row, :probabilities.shape[0], :probabilities.shape[1]] = probabilities
    return canvas
