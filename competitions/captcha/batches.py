"""Endless training batches for ``model.fit``: new captchas every batch, drawn in worker processes.

Batch ``i`` depends only on (seed, i), so a fit is reproducible whatever the number of workers, and each
batch index (they keep counting across epochs) brings images never seen before.
"""

from __future__ import annotations

import keras
import numpy as np

from competitions.captcha.generator import (
    HEIGHT,
    TRAINING_STREAM,
    WIDTH,
    Renderer,
    draw_examples,
    stream_random,
)
from competitions.captcha.images import to_array
from competitions.captcha.model import encode_labels


class CaptchaBatches(keras.utils.PyDataset):
    """(images, encoded labels) batches of generated captchas, a ``fixed_fraction`` of each from fixed rows."""

    def __init__(self, *, seed: int, batch_size: int, channels: int, fixed_images: np.ndarray | None = None,
                 fixed_expressions: np.ndarray | None = None, fixed_fraction: float = 0.0,
                 thin_fraction: float = 0.5, workers: int = 1, use_multiprocessing: bool = True,
                 max_queue_size: int = 8):
        super().__init__(workers=workers, use_multiprocessing=use_multiprocessing and workers > 0,
                         max_queue_size=max_queue_size)
        has_fixed = fixed_images is not None and len(fixed_images) > 0
        if has_fixed and len(fixed_images) != len(fixed_expressions):
            raise ValueError(f"{len(fixed_images)} fixed images but {len(fixed_expressions)} expressions")
        self.seed = seed
        self.batch_size = batch_size
        self.channels = channels
        self.fixed_images = fixed_images if has_fixed else None
        self.fixed_expressions = np.asarray(fixed_expressions) if has_fixed else None
        self.n_fixed = round(batch_size * fixed_fraction) if has_fixed else 0
        self.thin_fraction = thin_fraction
        self._renderer = None  # made on first use, in whichever process draws

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_renderer": None}  # fonts stay behind when workers are spawned

    @property
    def num_batches(self):
        return None  # endless: ``fit`` takes steps_per_epoch

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._renderer is None:
            self._renderer = Renderer()
        rng = stream_random(TRAINING_STREAM, self.seed, index)
        images = np.empty((self.batch_size, HEIGHT, WIDTH, self.channels), dtype=np.uint8)
        rows = [rng.randrange(len(self.fixed_images)) for _ in range(self.n_fixed)]
        expressions = [str(expression) for expression in self.fixed_expressions[rows]] if rows else []
        if rows:
            images[:len(rows)] = self.fixed_images[rows]
        generated = draw_examples(self._renderer, rng, self.batch_size - len(rows), self.thin_fraction)
        for position, (image, expression) in enumerate(generated, start=len(rows)):
            images[position] = to_array(image, self.channels)
            expressions.append(expression)
        return images, encode_labels(expressions)
