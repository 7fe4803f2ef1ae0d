"""Joint image/mask augmentation with albumentations 2 and random training tiles cut from whole slides.

Geometry only by default (any-angle rotation, flips, scale +-20%), with nearest-neighbour interpolation for the
mask so it stays exactly 0/1; colour jitter and H&E stain jitter (``stain.py``) are options. A tile is cut from a
window large enough that the rotated and scaled tile never shows the window's border, so big slides are never warped
whole. A per-pixel loss weight map (boundary-weighted cross-entropy) travels with the mask, warped the same way.
"""

from __future__ import annotations

import math

import albumentations as A
import cv2
import numpy as np

from competitions.pathology.stain import stain_perturbed


def window_size(tile: int, max_scale_change: float) -> int:
    """Side of the square cut before warping, so a tile rotated by any angle and zoomed out stays inside it."""
    return int(math.ceil(tile * math.sqrt(2) / (1 - max_scale_change))) + 2


def build_augmentation(tile: int, *, scale_change: float = 0.2, colour_jitter: float = 0.0) -> A.Compose:
    """Window crop -> rotation/scale -> flips -> centre crop to ``tile`` (-> optional colour jitter), all joint."""
    window = window_size(tile, scale_change)
    steps = [A.PadIfNeeded(min_height=window, min_width=window, border_mode=cv2.BORDER_REFLECT_101),
             A.RandomCrop(height=window, width=window),
             A.Affine(rotate=(-180, 180), scale=(1 - scale_change, 1 + scale_change), interpolation=cv2.INTER_LINEAR,
                      mask_interpolation=cv2.INTER_NEAREST, border_mode=cv2.BORDER_REFLECT_101, p=1.0),
             A.HorizontalFlip(p=0.5), A.VerticalFlip(p=0.5),
             A.CenterCrop(height=tile, width=tile)]
    if colour_jitter:
        steps.append(A.ColorJitter(brightness=colour_jitter, contrast=colour_jitter, saturation=colour_jitter,
                                   hue=min(0.5, colour_jitter / 4), p=0.8))
    return A.Compose(steps, mask_interpolation=cv2.INTER_NEAREST)


class TileSampler:
    """Draws augmented (image tile, mask tile) pairs from a list of slides; sample ``i`` of seed ``s`` is fixed.

    ``weights`` (one (H, W) float map per slide, optional) makes each target carry its tile's loss weights too;
    ``stain_jitter`` > 0 perturbs each tile's stains in HED space (``stain.stain_perturbed``)."""

    def __init__(self, images: list[np.ndarray], masks: list[np.ndarray], *, tile: int, seed: int,
                 colour_jitter: float = 0.0, scale_change: float = 0.2, weights: list[np.ndarray] | None = None,
                 stain_jitter: float = 0.0):
        if len(images) != len(masks) or not images:
            raise ValueError(f"need as many masks as images (and at least one): {len(images)} and {len(masks)}")
        if weights is not None and len(weights) != len(images):
            raise ValueError(f"need one weight map per slide: {len(weights)} for {len(images)} slides")
        self.images, self.masks, self.tile, self.seed = images, masks, tile, seed
        self.loss_weights, self.stain_jitter = weights, stain_jitter
        self.augmentation = build_augmentation(tile, scale_change=scale_change, colour_jitter=colour_jitter)
        areas = np.array([image.shape[0] * image.shape[1] for image in images], dtype=np.float64)
        self.weights = areas / areas.sum()  # larger slides give proportionally more tiles

    def batch(self, index: int, size: int) -> tuple[np.ndarray, np.ndarray]:
        """Batch ``index``: (size, tile, tile, 3) uint8 images and their targets: (size, tile, tile) uint8 0/1 masks,
        or with loss weights (size, tile, tile, 2) float32 (mask, weight) pairs."""
        rng = np.random.default_rng([self.seed, index])
        self.augmentation.set_random_seed(int(rng.integers(2**31)))
        images = np.empty((size, self.tile, self.tile, 3), dtype=np.uint8)
        targets = np.empty((size, self.tile, self.tile) + ((2,) if self.loss_weights else ()),
                           dtype=np.float32 if self.loss_weights else np.uint8)
        for position, row in enumerate(rng.choice(len(self.images), size=size, p=self.weights)):
            if self.loss_weights:
                augmented = self.augmentation(image=self.images[row], masks=[self.masks[row], self.loss_weights[row]])
                targets[position] = np.stack(augmented["masks"], axis=-1)
            else:
                augmented = self.augmentation(image=self.images[row], mask=self.masks[row])
                targets[position] = augmented["mask"]
            images[position] = stain_perturbed(augmented["image"], rng, self.stain_jitter)
        return images, targets
