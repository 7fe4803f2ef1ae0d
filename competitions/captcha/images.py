"""Captcha pictures as uint8 arrays of the network's input shape, from PIL images or from PNG files."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from competitions.captcha.generator import HEIGHT, WIDTH

MODES = {1: "L", 3: "RGB"}


def to_array(image: Image.Image, channels: int) -> np.ndarray:
    """(HEIGHT, WIDTH, channels) uint8: grey or RGB, resized when the picture is not 180x60."""
    if channels not in MODES:
        raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {channels}")
    image = image.convert(MODES[channels])
    if image.size != (WIDTH, HEIGHT):
        image = image.resize((WIDTH, HEIGHT), Image.Resampling.BILINEAR)
    return np.asarray(image, dtype=np.uint8).reshape(HEIGHT, WIDTH, channels)


def _load(path: str, channels: int) -> np.ndarray | None:
    try:
        with Image.open(path) as image:
            return to_array(image, channels)
    except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError):
        return None


def load_images(paths: list[str], channels: int, workers: int = 2) -> tuple[np.ndarray, list[str]]:
    """The pictures at ``paths`` stacked (bad ones as zeros) and the paths that could not be decoded."""
    images = np.zeros((len(paths), HEIGHT, WIDTH, channels), dtype=np.uint8)
    bad = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for index, (path, array) in enumerate(zip(paths, pool.map(lambda p: _load(p, channels), paths))):
            if array is None:
                bad.append(str(Path(path)))
            else:
                images[index] = array
    return images, bad


class ImageStore:
    """The decoded pictures of a list of files, kept per channel count so grey and RGB models share one read."""

    def __init__(self, paths: list[str]):
        self.paths = [str(path) for path in paths]
        self.bad: list[str] = []
        self._arrays: dict[int, np.ndarray] = {}

    def get(self, channels: int) -> np.ndarray:
        """(n, 60, 180, channels) uint8; undecodable files are zeros and listed in ``bad``."""
        if channels not in self._arrays:
            self._arrays[channels], self.bad = load_images(self.paths, channels)
        return self._arrays[channels]

    def subset(self, keep: np.ndarray) -> "ImageStore":
        """The store of the rows where ``keep`` is True, reusing what is already decoded."""
        store = ImageStore([path for path, kept in zip(self.paths, keep) if kept])
        store._arrays = {channels: array[keep] for channels, array in self._arrays.items()}
        return store
