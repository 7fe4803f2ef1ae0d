"""Endless training batches for ``model.fit``: augmented tiles drawn from the fold's slides, one batch per index.

Batch ``i`` depends only on (seed, i), and the index keeps counting across epochs, so every batch is new; a second
``fit`` (the fine-tuning after a frozen-encoder warm-up) starts at ``first_batch`` to go on drawing new ones.
"""

from __future__ import annotations

import keras
import numpy as np

from competitions.pathology.augment import TileSampler


class TileBatches(keras.utils.PyDataset):
    """(images uint8 (B, T, T, 3), targets (B, T, T) or (B, T, T, 2)) batches from a TileSampler, drawn in this
    process; the batch Keras asks for as ``index`` is the sampler's batch ``first_batch + index``."""

    def __init__(self, sampler: TileSampler, *, batch_size: int, first_batch: int = 0):
        super().__init__(workers=1, use_multiprocessing=False)
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.first_batch = first_batch

    @property
    def num_batches(self):
        return None  # endless: ``fit`` takes steps_per_epoch

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.sampler.batch(self.first_batch + index, self.batch_size)
