"""Training-image augmentation with albumentations 2 for the fine-tuning pipeline: random resized crop, horizontal
flip, a small rotation and optional colour jitter, on images already decoded and resized by ``tf.data``. The
augmentation of sample ``i`` is seeded by (fit seed, epoch, i), so a resumed fit sees what an uninterrupted one saw.
"""

from __future__ import annotations

import threading

import albumentations as A
import cv2
import numpy as np


def build_augmentation(size: tuple[int, int], *, strength: float, colour_jitter: bool) -> A.Compose:
    """Random resized crop (keeping at least ``1 - 0.6 * strength`` of the area), horizontal flip, a rotation of up
    to ``20 * strength`` degrees and, when ``colour_jitter``, brightness/contrast/saturation jitter of ``0.3 *
    strength``; ``strength`` 0 leaves only the flip."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"augmentation strength must be in [0, 1], not {strength}")
    height, width = size
    steps = [A.RandomResizedCrop(size=(height, width), scale=(1.0 - 0.6 * strength, 1.0), p=1.0 if strength else 0.0),
             A.HorizontalFlip(p=0.5)]
    if strength:
        steps.append(A.Affine(rotate=(-20 * strength, 20 * strength), border_mode=cv2.BORDER_REFLECT_101, p=0.7))
    if colour_jitter and strength:
        amount = 0.3 * strength
        steps.append(A.ColorJitter(brightness=amount, contrast=amount, saturation=amount, hue=amount / 6, p=0.8))
    return A.Compose(steps)


class Augmenter:
    """Augments one training image at a time from any thread (each thread has its own Compose, seeded per sample),
    for ``tf.numpy_function`` in a parallel ``tf.data`` map."""

    def __init__(self, size: tuple[int, int], *, strength: float, colour_jitter: bool):
        self.size = size
        self.strength = strength
        self.colour_jitter = colour_jitter
        self.local = threading.local()
        build_augmentation(size, strength=strength, colour_jitter=colour_jitter)  # bad options fail here, not in TF

    def __call__(self, image: np.ndarray, sample_seed: np.int64) -> np.ndarray:
        """The augmented image, uint8 (height, width, 3), of one sample (uint8 (height, width, 3))."""
        if not hasattr(self.local, "augmentation"):
            self.local.augmentation = build_augmentation(self.size, strength=self.strength,
                                                         colour_jitter=self.colour_jitter)
        self.local.augmentation.set_random_seed(int(sample_seed))
        return np.ascontiguousarray(self.local.augmentation(image=image)["image"], dtype=np.uint8)
