"""Generated slides in the competition's layout: tissue-like texture with blob regions of a different texture.

``train/image/<id>.tiff`` + ``train/labels/<id>.svg`` (+ ``masks/<id>.png``), the same under ``test/``; about one
image in six has no region and no SVG. Image ``i`` of a seed does not depend on ``n``.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from comp.io import write_bytes, write_text
from competitions.pathology.masks import rasterise
from competitions.pathology.svg import polygons_svg

HEIGHT, WIDTH = 192, 256
TRAIN_STREAM, TEST_STREAM = 1, 2


def smooth_noise(rng: np.random.Generator, shape: tuple[int, int], blur: float) -> np.ndarray:
    """Gaussian-blurred white noise rescaled to 0..1: a cheap organic texture."""
    noise = cv2.GaussianBlur(rng.random(shape, dtype=np.float32), (0, 0), blur)
    return (noise - noise.min()) / max(float(noise.max() - noise.min()), 1e-6)


def blob_outline(rng: np.random.Generator, centre: tuple[float, float], radius: float) -> np.ndarray:
    """A wobbly closed outline (N, 2) around ``centre``, with decimal coordinates like a hand-drawn trace."""
    angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    wobble = 1 + 0.25 * np.sin(angles * rng.integers(2, 5) + rng.uniform(0, 6)) + rng.uniform(-0.1, 0.1, angles.size)
    points = np.stack([centre[0] + radius * wobble * np.cos(angles), centre[1] + radius * wobble * np.sin(angles)], 1)
    return np.round(np.clip(points, 0, [WIDTH - 1, HEIGHT - 1]), 1)


def draw_slide(rng: np.random.Generator) -> tuple[np.ndarray, list[np.ndarray]]:
    """One RGB slide and its region outlines: pink stroma with nuclei dots, regions purple with dense nuclei."""
    stroma = smooth_noise(rng, (HEIGHT, WIDTH), 3)
    pink = np.array([235, 170, 200], dtype=np.float32)
    image = pink * (0.8 + 0.2 * stroma[..., None])
    polygons = []
    if rng.random() > 1 / 6:
        for _ in range(rng.integers(1, 4)):
            centre = (rng.uniform(30, WIDTH - 30), rng.uniform(30, HEIGHT - 30))
            polygons.append(blob_outline(rng, centre, rng.uniform(18, 40)))
    mask = rasterise(polygons, (HEIGHT, WIDTH), (HEIGHT, WIDTH)).astype(bool)
    grain = smooth_noise(rng, (HEIGHT, WIDTH), 1)
    purple = np.array([120, 70, 160], dtype=np.float32)
    image[mask] = purple * (0.7 + 0.6 * grain[mask, None])
    for _ in range(int(rng.integers(60, 120))):  # scattered nuclei everywhere
        x, y = int(rng.integers(0, WIDTH)), int(rng.integers(0, HEIGHT))
        cv2.circle(image, (x, y), int(rng.integers(1, 3)), (80, 40, 120), -1)
    image += rng.normal(0, 6, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8), polygons


def write_split(split_dir: Path, count: int, seed: int, stream: int, prefix: str) -> None:
    """``count`` slides with outlines and 0/255 masks in ``split_dir``'s image/, labels/ and masks/."""
    for folder in ("image", "labels", "masks"):
        (split_dir / folder).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        rng = np.random.default_rng([seed, stream, index])
        image, polygons = draw_slide(rng)
        stem = f"{prefix}_{index + 1}"
        write_bytes(split_dir / "image" / f"{stem}.tiff", _encode(".tiff", cv2.cvtColor(image, cv2.COLOR_RGB2BGR)))
        mask = rasterise(polygons, (HEIGHT, WIDTH), (HEIGHT, WIDTH)) * 255
        write_bytes(split_dir / "masks" / f"{stem}.png", _encode(".png", mask))
        if polygons:
            write_text(split_dir / "labels" / f"{stem}.svg", polygons_svg(polygons, WIDTH, HEIGHT))


def _encode(suffix: str, image: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(suffix, image)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {suffix} image")
    return encoded.tobytes()


def write_demo(out_dir: Path, *, n: int, seed: int, n_test: int | None = None) -> Path:
    """``n`` training and ``n_test`` (default max(2, n // 4)) test slides in the real set's layout."""
    if n < 2:
        raise ValueError(f"the pathology demo needs --n of at least 2, got {n}")
    out_dir = Path(out_dir)
    write_split(out_dir / "train", n, seed, TRAIN_STREAM, "train")
    write_split(out_dir / "test", max(2, n // 4) if n_test is None else n_test, seed, TEST_STREAM, "test")
    return out_dir
