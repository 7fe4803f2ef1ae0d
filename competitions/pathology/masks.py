"""Rasterise outlined regions into 0/1 masks with OpenCV at any output size, and read slides and masks from disk.

Points are scaled to the output grid before filling, so a half-size mask is drawn at half size rather than
shrunk from a full one, and a full-size mask is never a small one resized up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from comp.errors import CompError
from competitions.pathology.svg import read_polygons

logger = logging.getLogger("comp.pathology")
SUBPIXEL_BITS = 4  # cv2.fillPoly's fixed-point precision: vertices are placed to 1/16 pixel


def rasterise(polygons: list[np.ndarray], size: tuple[int, int], source_size: tuple[int, int]) -> np.ndarray:
    """A uint8 0/1 mask of shape ``size`` (height, width); inside and outline of every polygon are 1.

    ``source_size`` (height, width) is the grid the polygon coordinates refer to (the original image).
    """
    height, width = int(size[0]), int(size[1])
    if height < 1 or width < 1:
        raise ValueError(f"mask size must be positive, got {size}")
    mask = np.zeros((height, width), dtype=np.uint8)
    if not polygons:
        return mask
    scale = np.array([width / source_size[1], height / source_size[0]])
    shift = 1 << SUBPIXEL_BITS
    # pixel centres sit at integer coordinates in both grids: map x to (x + 0.5) * s - 0.5
    scaled = [np.round(((np.asarray(polygon) + 0.5) * scale - 0.5) * shift).astype(np.int32).reshape(-1, 1, 2)
              for polygon in polygons]
    for polygon in scaled:  # one at a time: filled together, the overlap of two outlines would be left empty
        cv2.fillPoly(mask, [polygon], 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    cv2.polylines(mask, scaled, True, 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    return mask


def rasterise_objects(polygons: list[np.ndarray], size: tuple[int, int], source_size: tuple[int, int]) -> np.ndarray:
    """An int32 label image of shape ``size`` (height, width): polygon k (inside and outline) is label k + 1, a later
    polygon drawn over an earlier one, 0 the background. Each outline is one object (a gland), so glands that touch
    stay apart for the object-level scores and the boundary weights; ``source_size`` as in ``rasterise``."""
    labels = np.zeros((int(size[0]), int(size[1])), dtype=np.int32)
    for label, polygon in enumerate(polygons, start=1):
        labels[rasterise([polygon], size, source_size) > 0] = label
    return labels


def warn_outlines_outside(polygons: list[np.ndarray], size: tuple[int, int], svg_path: str | Path) -> int:
    """Warn, naming ``svg_path``, about outlines lying wholly outside an image of ``size`` (height, width): they
    mark nothing, so the file probably belongs to another image or is scaled wrongly; return how many there are."""
    height, width = size
    outside = sum(1 for polygon in polygons if polygon[:, 0].max() < 0 or polygon[:, 0].min() > width - 1
                  or polygon[:, 1].max() < 0 or polygon[:, 1].min() > height - 1)
    if outside:
        logger.warning("%s: %d of %d outline(s) lie wholly outside the %dx%d image and mark nothing", svg_path,
                       outside, len(polygons), width, height)
    return outside


def read_mask(svg_path: str | Path | None, size: tuple[int, int], source_size: tuple[int, int]) -> np.ndarray:
    """The 0/1 mask of an image from its SVG outlines at ``size``; all zero when there is no SVG."""
    polygons = read_polygons(svg_path) if svg_path else []
    return rasterise(polygons, size, source_size)


def read_slide(path: str | Path) -> np.ndarray:
    """An RGB uint8 image (H, W, 3) from a TIFF (or any format OpenCV reads); CompError naming the file otherwise."""
    path = Path(path)
    if not path.is_file():
        raise CompError(f"image {path} does not exist")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.size == 0:
        raise CompError(f"cannot read the image {path}: not a TIFF (or other format) OpenCV can decode")
    if image.dtype == np.uint16:
        image = (image / 257).round().astype(np.uint8)
    elif image.dtype != np.uint8:
        raise CompError(f"image {path} has pixel type {image.dtype}; expected 8- or 16-bit")
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    elif image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    else:
        raise CompError(f"image {path} has {image.shape[2]} channels; expected 1, 3 or 4")
    return image


def scaled_size(size: tuple[int, int], scale: float) -> tuple[int, int]:
    """(height, width) of an image of ``size`` at ``scale``, at least one pixel each way."""
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def resize_image(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``image`` at (height, width) ``size``: area averaging to shrink, bilinear to enlarge."""
    if image.shape[:2] == tuple(size):
        return image
    shrinking = size[0] * size[1] < image.shape[0] * image.shape[1]
    return cv2.resize(image, (size[1], size[0]), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


def read_truth_png(path: str | Path) -> np.ndarray:
    """A scoring mask (0/255 PNG) as 0/1 uint8; CompError naming the file when it cannot be read."""
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise CompError(f"cannot read the mask {path}")
    return (mask > 127).astype(np.uint8)
