"""Learning-rate schedules as a function of training progress (0..1), so a fit cut short by a deadline still runs
through its whole schedule."""

from __future__ import annotations

import math

SCHEDULES = ("seed", "cosine", "constant")
WARMUP = 0.03  # share of training the cosine schedule warms up in


def learning_rate_at(schedule: str, base: float, progress: float) -> float:
    """The learning rate at ``progress`` (0..1) of training.

    ``seed``: the captcha seed's Adam 1e-3, then 1e-4, then 1e-5 (at 60% and 85%), scaled to ``base``;
    ``cosine``: 3% linear warm-up, then cosine decay to 1% of ``base``; ``constant``: ``base``.
    """
    if schedule == "constant":
        return base
    if schedule == "seed":
        return base if progress < 0.6 else base / 10 if progress < 0.85 else base / 100
    if schedule == "cosine":
        if progress < WARMUP:
            return base * (0.1 + 0.9 * progress / WARMUP)
        decayed = (progress - WARMUP) / (1 - WARMUP)
        return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(decayed, 1.0))))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; known: {', '.join(SCHEDULES)}")
