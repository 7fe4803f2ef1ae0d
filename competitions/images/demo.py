"""Generated pictures of coloured shapes in Kaggle's ``train.csv`` layout, for ``comp demo images`` and the tests.

- ``multiclass``: one shape per picture (circle, square, triangle, cross), one probability column per class;
- ``multilabel``: any subset of the shapes per picture, space-separated labels, one label column;
- ``regression``: one circle whose radius (in pixels) is the target, one value column.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pandas as pd

SHAPES = ("circle", "cross", "square", "triangle")
SIZE = 96
DEMO_TASKS = ("multiclass", "multilabel", "regression")


def draw_shape(image: np.ndarray, shape: str, rng: np.random.Generator, radius: int | None = None) -> None:
    """One filled shape of a random colour at a random place (radius given or drawn)."""
    radius = radius or int(rng.integers(10, 18))
    centre = rng.integers(radius + 2, SIZE - radius - 2, size=2)
    colour = tuple(int(value) for value in rng.integers(0, 256, size=3))
    x, y = int(centre[0]), int(centre[1])
    if shape == "circle":
        cv2.circle(image, (x, y), radius, colour, -1)
    elif shape == "square":
        cv2.rectangle(image, (x - radius, y - radius), (x + radius, y + radius), colour, -1)
    elif shape == "triangle":
        points = np.array([(x, y - radius), (x - radius, y + radius), (x + radius, y + radius)], dtype=np.int32)
        cv2.fillPoly(image, [points], colour)
    else:
        cv2.line(image, (x - radius, y - radius), (x + radius, y + radius), colour, 5)
        cv2.line(image, (x - radius, y + radius), (x + radius, y - radius), colour, 5)


def picture(rng: np.random.Generator) -> np.ndarray:
    """A noisy background, (SIZE, SIZE, 3) uint8."""
    background = rng.integers(60, 200, size=3)
    return np.clip(background + rng.normal(0, 20, size=(SIZE, SIZE, 3)), 0, 255).astype(np.uint8)


def target_picture(task: str, index: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
    """One picture and its label cell for ``task``."""
    image = picture(rng)
    if task == "multiclass":
        shape = SHAPES[index % len(SHAPES)]
        draw_shape(image, shape, rng)
        return image, shape
    if task == "multilabel":
        present = [shape for shape in SHAPES if rng.random() < 0.4] or [SHAPES[index % len(SHAPES)]]
        for shape in present:
            draw_shape(image, shape, rng, radius=10)
        return image, " ".join(present)
    radius = int(rng.integers(8, 30))
    draw_shape(image, "circle", rng, radius=radius)
    return image, str(radius)


def write_demo(out_dir: Path, *, n: int, seed: int, task: str = "multiclass") -> Path:
    """``n`` training pictures (``train.csv`` + ``train/<id>.png``), ``n // 4`` test pictures and a sample
    submission in the format of ``task``."""
    if task not in DEMO_TASKS:
        raise ValueError(f"the images demo draws {', '.join(DEMO_TASKS)} data, not {task!r}")
    if n < 2 * len(SHAPES):
        raise ValueError(f"the images demo needs --n of at least {2 * len(SHAPES)}, got {n}")
    rng = np.random.default_rng(seed)
    out_dir = Path(out_dir)
    for part in ("train", "test"):
        (out_dir / part).mkdir(parents=True, exist_ok=True)
    rows = []
    for index in range(n):
        image, label = target_picture(task, index, rng)
        identifier = f"{index:05d}"
        cv2.imwrite(str(out_dir / "train" / f"{identifier}.png"), image[..., ::-1])
        rows.append((identifier, label))
    column = {"multiclass": "label", "multilabel": "tags", "regression": "radius"}[task]
    pd.DataFrame(rows, columns=["id", column]).to_csv(out_dir / "train.csv", index=False)
    test_ids = [f"t{index:04d}" for index in range(max(4, n // 4))]
    for index, identifier in enumerate(test_ids):
        image, _ = target_picture(task, index, rng)
        cv2.imwrite(str(out_dir / "test" / f"{identifier}.png"), image[..., ::-1])
    if task == "multiclass":
        sample = pd.DataFrame({"id": test_ids, **{shape: 1 / len(SHAPES) for shape in SHAPES}})
    else:
        sample = pd.DataFrame({"id": test_ids, column: "circle" if task == "multilabel" else 0.0})
    sample.to_csv(out_dir / "sample_submission.csv", index=False)
    return out_dir
