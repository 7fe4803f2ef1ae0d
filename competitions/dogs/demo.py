"""Generated cat-like and dog-like pictures in the Kaggle layout, for the demo and the tests only."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd


def _draw_animal(rng: np.random.Generator, is_dog: bool) -> np.ndarray:
    """A face on a noisy background: cats have pointed ears and grey-orange fur, dogs floppy ears and brown fur."""
    height, width = int(rng.integers(180, 320)), int(rng.integers(180, 320))
    background = rng.integers(60, 200, size=3)
    image = np.clip(background + rng.normal(0, 25, size=(height, width, 3)), 0, 255).astype(np.uint8)
    centre = (int(width * rng.uniform(0.35, 0.65)), int(height * rng.uniform(0.4, 0.65)))
    radius = int(min(height, width) * rng.uniform(0.2, 0.3))
    fur = (rng.uniform(20, 70), rng.uniform(50, 90), rng.uniform(100, 160)) if is_dog else \
        (rng.uniform(90, 140), rng.uniform(130, 170), rng.uniform(180, 230))
    fur = tuple(int(channel) for channel in fur)
    if is_dog:
        for side in (-1, 1):
            ear = (centre[0] + side * radius, centre[1] + radius // 3)
            cv2.ellipse(image, ear, (radius // 3, int(radius * 0.8)), side * 15, 0, 360, fur, -1)
    else:
        for side in (-1, 1):
            base = centre[0] + side * radius // 2
            tip = (centre[0] + side * int(radius * 0.9), centre[1] - int(radius * 1.5))
            triangle = np.array([(base - radius // 3, centre[1] - radius // 2), (base + radius // 3,
                                 centre[1] - radius // 2), tip], dtype=np.int32)
            cv2.fillPoly(image, [triangle], fur)
    cv2.circle(image, centre, radius, fur, -1)
    for side in (-1, 1):
        cv2.circle(image, (centre[0] + side * radius // 3, centre[1] - radius // 5), max(2, radius // 10), (20, 20, 20), -1)
    nose_radius = max(3, radius // 5 if is_dog else radius // 12)
    cv2.circle(image, (centre[0], centre[1] + radius // 4), nose_radius, (10, 10, 10), -1)
    return image


def write_demo(out_dir: Path, *, n: int, seed: int) -> Path:
    """``n`` training images (half cats, half dogs), ``n // 4`` test images and a sample submission."""
    if n < 4:
        raise ValueError(f"the dogs demo needs --n of at least 4, got {n}")
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    (out_dir / "train").mkdir(parents=True, exist_ok=True)
    (out_dir / "test").mkdir(parents=True, exist_ok=True)
    for index in range(n):
        is_dog = index % 2 == 1
        name = f"{'dog' if is_dog else 'cat'}.{index // 2}.jpg"
        cv2.imwrite(str(out_dir / "train" / name), _draw_animal(rng, is_dog))
    n_test = max(2, n // 4)
    for number in range(1, n_test + 1):
        cv2.imwrite(str(out_dir / "test" / f"{number}.jpg"), _draw_animal(rng, bool(rng.integers(0, 2))))
    pd.DataFrame({"id": range(1, n_test + 1), "label": 0.5}).to_csv(out_dir / "sample_submission.csv", index=False)
    return out_dir
