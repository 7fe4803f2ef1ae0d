"""Training-image augmentation with albumentations 2 and image reading for the fine-tuning pipeline.

Every image is read with OpenCV (RGB, resized to the network's input) so an undecodable file gives a grey image
instead of an error in the middle of a ``tf.data`` pipeline. The augmentation of sample ``i`` is seeded by
(fit seed, epoch, i), so a resumed fit sees the same pictures as an uninterrupted one.
"""

from __future__ import annotations

import threading

import albumentations as A
import cv2
import numpy as np

GREY = 128  # the value of every pixel of an image that cannot be decoded


def read_image(path: str, size: tuple[int, int]) -> np.ndarray:
    """The RGB image at ``path`` resized to ``size`` (height, width): uint8 (height, width, 3); a grey image when the
    file cannot be decoded (the feature stage has already dropped or refused such files)."""
    height, width = size
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        return np.full((height, width, 3), GREY, dtype=np.uint8)
    image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    shrinking = image.shape[0] > height or image.shape[1] > width
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)


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


class AugmentedReader:
    """Reads and augments one training image at a time from any thread (each thread has its own Compose, seeded
    per sample), for ``tf.numpy_function`` in a parallel ``tf.data`` map."""

    def __init__(self, size: tuple[int, int], *, strength: float, colour_jitter: bool):
        self.size = size
        self.strength = strength
        self.colour_jitter = colour_jitter
        self.local = threading.local()
        build_augmentation(size, strength=strength, colour_jitter=colour_jitter)  # bad options fail here, not in TF

    def __call__(self, path: bytes, sample_seed: np.int64) -> np.ndarray:
        """The augmented image, uint8 (height, width, 3), of one sample."""
        if not hasattr(self.local, "augmentation"):
            self.local.augmentation = build_augmentation(self.size, strength=self.strength,
                                                         colour_jitter=self.colour_jitter)
        self.local.augmentation.set_random_seed(int(sample_seed))
        image = read_image(path.decode(), self.size)
        return np.ascontiguousarray(self.local.augmentation(image=image)["image"], dtype=np.uint8)
