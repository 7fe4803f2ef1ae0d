"""Endless training batches for ``model.fit``: augmented tiles drawn from the fold's slides, one batch per index.

Batch ``i`` depends only on (seed, i), and the index keeps counting across epochs, so every batch is new.
"""

from __future__ import annotations

import keras
import numpy as np

from competitions.pathology.augment import TileSampler


class TileBatches(keras.utils.PyDataset):
    """(images uint8 (B, T, T, 3), masks uint8 (B, T, T)) batches from a TileSampler, drawn in this process."""

    def __init__(self, sampler: TileSampler, *, batch_size: int):
        super().__init__(workers=1, use_multiprocessing=False)
        if batch_size < 1:
            raise ValueError(f"batch size must be at least 1, got {batch_size}")
        self.sampler = sampler
        self.batch_size = batch_size

    @property
    def num_batches(self):
        return None  # endless: ``fit`` takes steps_per_epoch

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        return self.sampler.batch(index, self.batch_size)
