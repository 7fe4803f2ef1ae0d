"""Slides and their masks in memory at the working resolution, decoded once and shared by every model spec.

A geometry is either a scale of the original size (tiled models) or a fixed square size (the seed's whole-image
model); masks are rasterised from the SVG points at that size, and the scoring truth at the original size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from comp.errors import CompError
from competitions.pathology.masks import (
    rasterise,
    rasterise_objects,
    read_slide,
    resize_image,
    scaled_size,
    warn_outlines_outside,
)
from competitions.pathology.svg import read_polygons


@dataclass(frozen=True)
class Geometry:
    """How a slide is resized for a network: by ``scale`` (size None) or to ``size`` x ``size`` pixels."""

    scale: float = 0.5
    size: int | None = None

    def __post_init__(self):
        if self.size is None and not 0 < self.scale <= 4:
            raise CompError(f"scale must be in (0, 4], got {self.scale}")
        if self.size is not None and self.size < 8:
            raise CompError(f"whole-image size must be at least 8 pixels, got {self.size}")

    def working_size(self, original: tuple[int, int]) -> tuple[int, int]:
        """(height, width) a slide of ``original`` (height, width) is resized to."""
        return (self.size, self.size) if self.size is not None else scaled_size(original, self.scale)


@dataclass
class Slides:
    """Decoded slides of one table: originals' sizes, outlines, and resized copies per geometry."""

    paths: list[str]
    svg_paths: list[str | None]
    originals: list[np.ndarray] = field(default_factory=list, repr=False)
    polygons: list[list[np.ndarray]] = field(default_factory=list, repr=False)
    _resized: dict = field(default_factory=dict, repr=False)

    @classmethod
    def load(cls, paths, svg_paths=None) -> "Slides":
        """Read every image (CompError naming the first unreadable one) and every SVG outline."""
        paths = [str(path) for path in paths]
        svg_paths = list(svg_paths) if svg_paths is not None else [None] * len(paths)
        slides = cls(paths, [str(path) if path else None for path in svg_paths])
        slides.originals = [read_slide(path) for path in paths]
        slides.polygons = [read_polygons(path) if path else [] for path in slides.svg_paths]
        for svg_path, polygons, image in zip(slides.svg_paths, slides.polygons, slides.originals):
            warn_outlines_outside(polygons, image.shape[:2], svg_path)
        return slides

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def sizes(self) -> list[tuple[int, int]]:
        """Original (height, width) of each slide."""
        return [image.shape[:2] for image in self.originals]

    def images(self, geometry: Geometry) -> list[np.ndarray]:
        """Every slide resized for ``geometry`` (cached)."""
        key = ("images", geometry)
        if key not in self._resized:
            self._resized[key] = [resize_image(image, geometry.working_size(image.shape[:2]))
                                  for image in self.originals]
        return self._resized[key]

    def masks(self, geometry: Geometry) -> list[np.ndarray]:
        """Every slide's 0/1 mask drawn at ``geometry``'s size from the scaled outline points (cached)."""
        key = ("masks", geometry)
        if key not in self._resized:
            self._resized[key] = [rasterise(polygons, geometry.working_size(size), size)
                                  for polygons, size in zip(self.polygons, self.sizes)]
        return self._resized[key]

    def objects(self, geometry: Geometry) -> list[np.ndarray]:
        """Every slide's int32 label image at ``geometry``'s size, one label per outline (cached): the glands as
        objects, touching ones apart."""
        key = ("objects", geometry)
        if key not in self._resized:
            self._resized[key] = [rasterise_objects(polygons, geometry.working_size(size), size)
                                  for polygons, size in zip(self.polygons, self.sizes)]
        return self._resized[key]

    def truth_objects(self, row: int) -> np.ndarray:
        """Slide ``row``'s int32 label image at its original size (the object-level scoring truth)."""
        return rasterise_objects(self.polygons[row], self.sizes[row], self.sizes[row])

    def truth(self, row: int) -> np.ndarray:
        """Slide ``row``'s 0/1 mask at its original size (the scoring truth)."""
        return rasterise(self.polygons[row], self.sizes[row], self.sizes[row])

    def positive_fraction(self) -> np.ndarray:
        """Share of positive pixels in each slide (at a quarter of the size: only for stratifying folds)."""
        quarter = Geometry(scale=0.25)
        return np.array([mask.mean() for mask in self.masks(quarter)])
