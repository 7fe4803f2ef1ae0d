"""What the network reads: each image's formula lines cropped (cropping.py) from its grey, inverted picture (ink
bright on black, like the strip's fill) and put side by side in one (80, 900) uint8 strip. Files are cropped in
worker processes; an image that cannot be decoded or holds no text region found is named and gets a black strip
(read as nothing, so counted as wrong), never a crash."""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np

from competitions.captcha_final.cropping import STRIP_HEIGHT, STRIP_WIDTH, NoTextRegion, find_lines, line_strip

CHUNK = 16  # files handed to a worker at a time


def inverted_grey(image: np.ndarray) -> np.ndarray:
    """(h, w) uint8: an RGB (h, w, 3) or grey (h, w) picture as grey with ink bright and paper dark."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    return 255 - grey


def line_crops(image: np.ndarray) -> list[np.ndarray]:
    """The inverted grey crop (rows, columns) of each formula line of ``image``, top to bottom; NoTextRegion when
    none is found."""
    ink = inverted_grey(image)
    return [ink[top:bottom, left:right] for left, top, right, bottom in find_lines(image)]


def strip_of_image(image: np.ndarray) -> np.ndarray:
    """(80, 900) uint8: the formula lines of ``image`` side by side; NoTextRegion when none is found."""
    return line_strip(inverted_grey(image), find_lines(image))


def strip_of_file(path: str) -> tuple[np.ndarray | None, str]:
    """(strip or None, "" or what is wrong with the file) for one image file."""
    picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if picture is None:
        return None, f"{path} cannot be decoded as an image"
    try:
        return strip_of_image(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB)), ""
    except NoTextRegion as error:
        return None, f"{path}: {error}"


def strip_picture(path: str) -> np.ndarray | None:
    """(80, 900, 3) uint8 RGB: the strip the network reads from the image file ``path`` (ink bright on black), for a
    report's gallery; None when the file does not decode or holds no text region found."""
    strip, _ = strip_of_file(path)
    return None if strip is None else np.repeat(strip[..., np.newaxis], 3, axis=2)


def strips_of_chunk(paths: list[str]) -> list[tuple[np.ndarray | None, str]]:
    """``strip_of_file`` for each of ``paths``: one worker's share."""
    return [strip_of_file(path) for path in paths]


def strips_of_files(paths, workers: int | None = None) -> tuple[np.ndarray, dict[str, str]]:
    """(n, 80, 900) uint8 strips of the image files ``paths`` (black for a bad file) and {path: problem} of the bad
    ones. ``workers`` processes crop chunks of files (default: the CPU count; 0 or 1: this process)."""
    paths = [str(path) for path in paths]
    workers = (os.cpu_count() or 1) if workers is None else workers
    chunks = [paths[start:start + CHUNK] for start in range(0, len(paths), CHUNK)]
    if workers > 1 and len(chunks) > 1:
        with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
            results = [result for chunk in pool.map(strips_of_chunk, chunks) for result in chunk]
    else:
        results = [result for chunk in chunks for result in strips_of_chunk(chunk)]
    strips = np.zeros((len(paths), STRIP_HEIGHT, STRIP_WIDTH), dtype=np.uint8)
    problems = {}
    for row, (path, (strip, problem)) in enumerate(zip(paths, results)):
        if strip is None:
            problems[path] = problem
        else:
            strips[row] = strip
    return strips, problems


class StripStore:
    """The strips of a list of image files, cropped once (in worker processes) on first use."""

    def __init__(self, paths, workers: int | None = None):
        self.paths = [str(path) for path in paths]
        self.workers = workers
        self.problems: dict[str, str] = {}
        self._strips: np.ndarray | None = None

    def get(self) -> np.ndarray:
        """(n, 80, 900, 1) uint8; a bad image is black and named in ``problems``."""
        if self._strips is None:
            strips, self.problems = strips_of_files(self.paths, self.workers)
            self._strips = strips[..., np.newaxis]
        return self._strips

    @property
    def bad(self) -> np.ndarray:
        """(n,) bool: the images that could not be decoded or held no text region found."""
        self.get()
        return np.isin(self.paths, list(self.problems))
