"""Learning-rate schedules as a function of the share of training done (0..1), so a fit cut short by a deadline
still runs through its whole schedule: one definition for the sequence (captcha) fits and for fine-tuning; and the
seconds one fit may train under ``--time-budget``."""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine", "step", "seed")
FLOOR = 0.01  # the cosine ends at this share of the base rate
STEP_FACTOR = 0.1  # the step schedule multiplies the rate by this after each third of training


def learning_rate_at(schedule: str, base: float, progress: float, *, warmup: float = 0.0) -> float:
    """The learning rate when the share ``progress`` (0..1) of training is done.

    ``constant``: ``base``. ``cosine``: over the first ``warmup`` share a linear ramp from a tenth of ``base``, then
    cosine decay to 1% of ``base``. ``step``: the same warm-up, then ``base`` times 0.1 after each third of the rest.
    ``seed``: the captcha seed's Adam 1e-3, then 1e-4, then 1e-5 (at 60% and 85%), scaled to ``base``.
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; known: {', '.join(SCHEDULES)}")
    if schedule == "constant":
        return base
    if schedule == "seed":
        return base if progress < 0.6 else base / 10 if progress < 0.85 else base / 100
    if progress < warmup:
        return base * (0.1 + 0.9 * progress / warmup)
    after = min(1.0, (progress - warmup) / max(1e-9, 1.0 - warmup))
    if schedule == "cosine":
        return base * (FLOOR + (1.0 - FLOOR) * (1.0 + math.cos(math.pi * after)) / 2.0)
    return base * STEP_FACTOR ** min(2, int(after * 3))


def fold_seconds(config: dict, training_share: float, *, fits_per_fold: int | None = None) -> float | None:
    """Seconds one fit trains under ``--time-budget`` (minutes, ``config["time_budget"]``): ``training_share`` of it
    (the rest is for prediction and fusion) over the folds times ``fits_per_fold`` (models x trials; default the
    run's trials, at least 1); None without a budget."""
    if not config.get("time_budget"):
        return None
    fits = int(config["folds"]) * max(1, int(config.get("trials") or 0) if fits_per_fold is None else fits_per_fold)
    return float(config["time_budget"]) * 60 * training_share / fits
