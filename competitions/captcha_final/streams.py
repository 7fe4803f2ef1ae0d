"""Independent random sources of generated captchas, one per (stream, seed, index) key, so image ``i`` of a seed
does not depend on how many are drawn nor in which process."""

from __future__ import annotations

import random

import numpy as np

DEMO_STREAM, DEMO_TEST_STREAM, TRAINING_STREAM = 1, 2, 3  # 4: the crop pool's (batches.py)
BENCH_STREAM = 5  # the captchas `comp bench captcha-final` times
OTHER_RENDERER_STREAM = 6  # the other renderer's test sets (other_renderer.py)


def stream_random(*key: int) -> random.Random:
    """A ``random.Random`` for one key of integers, independent of every other key."""
    return random.Random(int(np.random.SeedSequence(list(key)).generate_state(1)[0]))
