"""Predict a whole slide with overlapping square tiles blended back together, and flip/rot90 test-time views.

Each tile's output is weighted by a window that is highest in its centre, so seams vanish; the network only ever
sees tiles, so a slide of any size is predicted in fixed memory per batch.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

TTA_VIEWS = ("identity", "hflip", "vflip", "rot90", "rot180", "rot270", "transpose", "antitranspose")


def blend_window(tile: int, floor: float = 0.05) -> np.ndarray:
    """(tile, tile) weights: a separable tent peaking in the centre, never below ``floor`` at the edges."""
    ramp = 1 - np.abs(np.linspace(-1, 1, tile))
    ramp = floor + (1 - floor) * ramp
    return np.outer(ramp, ramp).astype(np.float32)


def tile_origins(length: int, tile: int, stride: int) -> list[int]:
    """Start offsets covering ``length`` (>= tile) with tiles ``stride`` apart, the last one flush with the end."""
    if length <= tile:
        return [0]
    origins = list(range(0, length - tile, stride))
    return origins + [length - tile]


def predict_tiled(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], *, tile: int,
                  overlap: float = 0.5, batch_size: int = 8) -> np.ndarray:
    """Blend ``predict`` over overlapping tiles of ``image`` (H, W, C) into an (H, W, K) map.

    ``predict`` maps a batch (N, tile, tile, C) to (N, tile, tile, K). Images smaller than a tile are
    reflect-padded and the padding is cut off again.
    """
    if not 0 <= overlap < 1:
        raise ValueError(f"tile overlap must be in [0, 1), got {overlap}")
    height, width = image.shape[:2]
    padded_height, padded_width = max(height, tile), max(width, tile)
    if (padded_height, padded_width) != (height, width):
        padding = [(0, padded_height - height), (0, padded_width - width)] + [(0, 0)] * (image.ndim - 2)
        mode = "reflect" if min(height, width) > 1 else "edge"
        image = np.pad(image, padding, mode=mode)
    stride = max(1, int(round(tile * (1 - overlap))))
    corners = [(top, left) for top in tile_origins(padded_height, tile, stride)
               for left in tile_origins(padded_width, tile, stride)]
    window = blend_window(tile)
    total = None
    weight = np.zeros((padded_height, padded_width, 1), dtype=np.float32)
    for start in range(0, len(corners), batch_size):
        chunk = corners[start:start + batch_size]
        batch = np.stack([image[top:top + tile, left:left + tile] for top, left in chunk])
        outputs = np.asarray(predict(batch), dtype=np.float32)
        if outputs.ndim == 3:
            outputs = outputs[..., None]
        if total is None:
            total = np.zeros((padded_height, padded_width, outputs.shape[-1]), dtype=np.float32)
        for (top, left), output in zip(chunk, outputs):
            total[top:top + tile, left:left + tile] += output * window[..., None]
            weight[top:top + tile, left:left + tile] += window[..., None]
    return (total / weight)[:height, :width]


def view(image: np.ndarray, name: str) -> np.ndarray:
    """``image`` (H, W, ...) seen through one dihedral test-time view."""
    transforms = {
        "identity": lambda a: a, "hflip": lambda a: a[:, ::-1], "vflip": lambda a: a[::-1],
        "rot90": lambda a: np.rot90(a, 1), "rot180": lambda a: np.rot90(a, 2), "rot270": lambda a: np.rot90(a, 3),
        "transpose": lambda a: np.swapaxes(a, 0, 1), "antitranspose": lambda a: np.rot90(np.swapaxes(a, 0, 1), 2),
    }
    if name not in transforms:
        raise ValueError(f"unknown test-time view {name!r}; known: {', '.join(TTA_VIEWS)}")
    return np.ascontiguousarray(transforms[name](image))


def undo_view(prediction: np.ndarray, name: str) -> np.ndarray:
    """Map a prediction made on ``view(image, name)`` back onto the original image's grid."""
    inverse = {"rot90": "rot270", "rot270": "rot90"}.get(name, name)  # the others are their own inverse
    return view(prediction, inverse)


def predict_with_views(image: np.ndarray, predict: Callable[[np.ndarray], np.ndarray], *, tile: int,
                       views: tuple[str, ...] = ("identity",), overlap: float = 0.5,
                       batch_size: int = 8) -> np.ndarray:
    """The mean of the tiled prediction over the test-time ``views``, on the original grid."""
    total = None
    for name in views:
        prediction = undo_view(predict_tiled(view(image, name), predict, tile=tile, overlap=overlap,
                                             batch_size=batch_size), name)
        total = prediction if total is None else total + prediction
    return total / len(views)
