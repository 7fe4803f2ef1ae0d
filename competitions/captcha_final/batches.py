"""Endless training batches for ``model.fit`` (imports Keras): strips of freshly rendered captchas, recombined
samples from a pool of line crops (of the fold's labelled images too, with ``--data``), and (with ``--data``) strips
of the fold's labelled rows.

Batch ``i`` depends only on (seed, i): the pool slides along its own seeded stream in whichever process draws, and
batch ``i`` only draws from the sources that index ``i`` fixes, so a fit is reproducible whatever the number of
workers. A fresh captcha whose crop does not find one line per formula is drawn again, so every label matches its
strip.
"""

from __future__ import annotations

import io
from pathlib import Path

import cv2
import keras
import numpy as np

from comp.io import write_bytes
from competitions.captcha_final.cropping import NoTextRegion, crops_strip
from competitions.captcha_final.formulas import random_formulas
from competitions.captcha_final.reading import CHARACTERS
from competitions.captcha_final.recombination import CropPool
from competitions.captcha_final.renderer import STREAM_VARIATION, Variation, render_captcha
from competitions.captcha_final.streams import TRAINING_STREAM, stream_random
from competitions.captcha_final.strips import line_crops

POOL_STREAM = 4
POOL_FILL_RATE = 4  # source images joining the crop pool per batch index while it fills
POOL_SLIDE_RATE = 1  # renders joining (and the oldest leaving) per batch index once it is full: four made the
# 120-minute run's steps 37% slower (85 s per 50 steps against 62; the generator worker rendered 20 a batch, not 16)
MOST_POOL_DRAWS = 20  # tries per recombined sample wanted


def fresh_sample(rng, variation: Variation = STREAM_VARIATION) -> tuple[str, list[np.ndarray]]:
    """(formulas, line crops) of a newly rendered captcha (drawn from ``variation``) whose crop found one line per
    formula."""
    while True:
        captcha = render_captcha(random_formulas(rng), rng, variation)
        try:
            crops = line_crops(captcha.image)
        except NoTextRegion:
            continue
        if len(crops) == len(captcha.formulas.split(";")):
            return captcha.formulas, crops


def labelled_crops(path: str, formulas: str) -> tuple[str, list[np.ndarray]]:
    """(formulas, line crops) of a labelled image file; no crops when it holds no text region found."""
    picture = cv2.imread(path, cv2.IMREAD_COLOR)
    try:
        return formulas, line_crops(cv2.cvtColor(picture, cv2.COLOR_BGR2RGB))
    except (NoTextRegion, cv2.error):
        return formulas, []


class SlidingPool:
    """The crop pool of a fit. Source images join ``POOL_FILL_RATE`` per batch index until it is full: the fold's
    labelled images first (up to ``size``; they stay), then captchas of the seed's pool stream; from then on
    ``POOL_SLIDE_RATE`` new renders join per batch and batch ``i`` draws only from the ``size`` newest. The sources of
    batch ``i`` are fixed by ``i`` alone, so it is the same in every process, no fit waits for a whole pool, and a
    render is recombined for ``size / POOL_SLIDE_RATE`` batches at most: a pool that stopped at its first 256 renders
    was memorised (the 120-minute network read 0.975 of recombinations of its own pool and 0.669 of another pool's;
    README, "Training data").

    With a ``store`` folder, each source's lines are saved there once and a later pool of the same fit loads them:
    Keras starts a new worker process every epoch, and without it each one rendered the whole window (256 captchas)
    again before its first batch."""

    def __init__(self, seed: int, size: int, labelled: list[tuple[str, str]], variation: Variation = STREAM_VARIATION,
                 store: Path | None = None):
        self.seed, self.size, self.labelled, self.variation = seed, size, labelled[:size], variation
        self.store = None if store is None else Path(store)
        self.crops = CropPool()
        self.pooled: set[int] = set()

    def joined(self, index: int) -> int:
        """How many sources have joined by batch ``index``: ``POOL_FILL_RATE`` a batch up to a full pool, then
        ``POOL_SLIDE_RATE`` a batch."""
        full = len(self.labelled) + self.size
        filled_by = -(-full // POOL_FILL_RATE)  # batches until the pool is full
        return min(POOL_FILL_RATE * (index + 1), full) + POOL_SLIDE_RATE * max(0, index + 1 - filled_by)

    def window(self, index: int) -> set[int]:
        """The sources batch ``index`` draws from: labelled ``0..L-1`` as far as joined, then the ``size`` newest
        renders (numbered from ``L``)."""
        joined = self.joined(index)
        labelled = min(len(self.labelled), joined)
        rendered = joined - labelled
        first = len(self.labelled) + max(0, rendered - self.size)
        return set(range(labelled)) | set(range(first, len(self.labelled) + rendered))

    def sources_for(self, index: int) -> set[int]:
        """Batch ``index``'s sources, each pooled on first need; renders a window older than the oldest it draws from
        are forgotten, so memory stays at about two windows (a batch drawn that late renders its sources again)."""
        wanted = self.window(index)
        for source in sorted(wanted - self.pooled):
            self.crops.add(*self.source_lines(source), source=source)
            self.pooled.add(source)
        oldest_render = min((source for source in wanted if source >= len(self.labelled)), default=None)
        if oldest_render is not None:
            stale = {source for source in self.pooled if len(self.labelled) <= source < oldest_render - self.size}
            if stale:
                self.crops.drop(stale)
                self.pooled -= stale
                if self.store:
                    for source in stale:
                        self.store_file(source).unlink(missing_ok=True)
        return wanted

    def store_file(self, source: int) -> Path:
        """Where source ``source``'s formulas and line crops are saved (``.npz``)."""
        return self.store / f"source-{source}.npz"

    def source_lines(self, source: int) -> tuple[str, list[np.ndarray]]:
        """(formulas, line crops) of source ``source``: from the store when a pool of the fit saved it, else the
        labelled image's or a render's (then saved)."""
        if self.store and self.store_file(source).is_file():
            with np.load(self.store_file(source)) as saved:
                return str(saved["formulas"]), [saved[f"line{line}"] for line in range(len(saved.files) - 1)]
        if source < len(self.labelled):
            formulas, crops = labelled_crops(*self.labelled[source])
        else:
            formulas, crops = fresh_sample(stream_random(POOL_STREAM, self.seed, source - len(self.labelled)),
                                           self.variation)
        if self.store:
            buffer = io.BytesIO()
            np.savez(buffer, formulas=np.array(formulas), **{f"line{line}": crop for line, crop in enumerate(crops)})
            write_bytes(self.store_file(source), buffer.getvalue())
        return formulas, crops


class FormulaBatches(keras.utils.PyDataset):
    """(strips (batch, 80, 900, 1) uint8, encoded labels (batch, 46) int32) batches: a ``fixed_fraction`` from the
    fixed rows (``fixed_strips``: (n, 80, 900)), a ``recombined_fraction`` from the crop pool (the fixed rows'
    images, ``fixed_paths``, and rendered ones), the rest freshly rendered; every render is drawn from ``variation``
    (the stream's full or narrow look, renderer.STREAM_VARIATIONS). ``pool_store``: a folder, kept for the fit,
    where the pool's sources are saved for the worker of the next epoch."""

    def __init__(self, *, seed: int, batch_size: int, fixed_strips: np.ndarray | None = None,
                 fixed_formulas: np.ndarray | None = None, fixed_fraction: float = 0.0,
                 fixed_paths: list[str] | None = None, recombined_fraction: float = 0.5, pool_size: int = 256,
                 workers: int = 1, max_queue_size: int = 8, variation: Variation = STREAM_VARIATION,
                 pool_store: Path | None = None):
        super().__init__(workers=workers, use_multiprocessing=workers > 0, max_queue_size=max_queue_size)
        has_fixed = fixed_strips is not None and len(fixed_strips) > 0
        if has_fixed and len(fixed_strips) != len(fixed_formulas):
            raise ValueError(f"{len(fixed_strips)} fixed strips but {len(fixed_formulas)} formulas")
        self.seed, self.batch_size, self.pool_size, self.variation = seed, batch_size, pool_size, variation
        self.pool_store = pool_store
        self.fixed_strips = fixed_strips if has_fixed else None
        self.fixed_formulas = np.asarray(fixed_formulas) if has_fixed else None
        self.labelled = list(zip(fixed_paths, map(str, fixed_formulas))) if has_fixed and fixed_paths else []
        self.n_fixed = round(batch_size * fixed_fraction) if has_fixed else 0
        self.n_recombined = round(batch_size * recombined_fraction) if pool_size else 0
        self._pool = None  # made on first use, in whichever process draws

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_pool": None}  # a spawned worker makes its own pool (from pool_store)

    @property
    def num_batches(self):
        return None  # endless: ``fit`` takes steps_per_epoch

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        if self._pool is None:
            self._pool = SlidingPool(self.seed, self.pool_size, self.labelled, self.variation, self.pool_store)
        rng = stream_random(TRAINING_STREAM, self.seed, index)
        sources = self._pool.sources_for(index) if self.n_recombined else set()
        strips, formulas = [], []
        for row in (rng.randrange(len(self.fixed_strips)) for _ in range(self.n_fixed)):
            strips.append(self.fixed_strips[row])
            formulas.append(str(self.fixed_formulas[row]))
        for _ in range(MOST_POOL_DRAWS * self.n_recombined):  # a small pool may lack a match: fresh ones fill in
            if len(strips) == self.n_fixed + self.n_recombined:
                break
            sample = self._pool.crops.recombined(rng, sources)
            if sample is not None:
                strips.append(sample[0])
                formulas.append(sample[1])
        while len(strips) < self.batch_size:
            text, crops = fresh_sample(rng, self.variation)
            strips.append(crops_strip(crops))
            formulas.append(text)
        return np.stack(strips)[..., np.newaxis], CHARACTERS.encode(formulas)
