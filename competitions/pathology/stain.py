"""H&E stain augmentation: each tile's haematoxylin, eosin and DAB amounts scaled and shifted at random in HED colour
space, so the network sees the spread of staining between labs and batches, not one lab's colours.

Colour deconvolution after Ruifrok and Johnston (2001): a pixel's optical density ``-ln((I + 1) / 256)`` per RGB
channel is the sum of three stains' unit optical-density vectors weighted by their amounts. The inverse of the stain
matrix turns optical density into amounts (H, E, D), the perturbation acts there (Tellez et al., 2018: amount x
U(1 - s, 1 + s) + U(-s, s) per stain), and the matrix turns them back into RGB.
"""

from __future__ import annotations

import numpy as np

# rows: optical density in (R, G, B) of haematoxylin, eosin and DAB (Ruifrok and Johnston's measured vectors)
STAIN_VECTORS = np.array([[0.65, 0.70, 0.29], [0.07, 0.99, 0.11], [0.27, 0.57, 0.78]])
RGB_FROM_HED = STAIN_VECTORS / np.linalg.norm(STAIN_VECTORS, axis=1, keepdims=True)
HED_FROM_RGB = np.linalg.inv(RGB_FROM_HED)
LEVELS = 256.0  # uint8 intensities 0..255, shifted by one so that black has a finite optical density


def rgb_to_hed(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) float64 stain amounts (haematoxylin, eosin, DAB) of a (H, W, 3) RGB uint8 (or 0..255) image."""
    density = -np.log((np.asarray(image, dtype=np.float64) + 1.0) / LEVELS)
    return density @ HED_FROM_RGB


def hed_to_rgb(amounts: np.ndarray) -> np.ndarray:
    """(H, W, 3) uint8 RGB image of (H, W, 3) stain amounts: the inverse of ``rgb_to_hed`` (clipped to 0..255)."""
    intensity = LEVELS * np.exp(-(np.asarray(amounts, dtype=np.float64) @ RGB_FROM_HED)) - 1.0
    return np.clip(np.rint(intensity), 0, 255).astype(np.uint8)


def stain_perturbed(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """(H, W, 3) uint8 ``image`` with each stain's amount multiplied by U(1 - strength, 1 + strength) and shifted by
    U(-strength, strength), one draw per stain for the whole image; ``strength`` 0 returns it unchanged."""
    if not 0 <= strength < 1:
        raise ValueError(f"stain_jitter must be in [0, 1), got {strength}")
    if strength == 0:
        return image
    scale = rng.uniform(1 - strength, 1 + strength, size=3)
    shift = rng.uniform(-strength, strength, size=3)
    return hed_to_rgb(rgb_to_hed(image) * scale + shift)
