"""Learning rate of the fine-tuning phases: a linear warm-up, then a cosine or step decay, driven by the share of
the phase done (the larger of steps done over steps planned and seconds spent over seconds allowed, so a fit cut
short by --time-budget still decays)."""

from __future__ import annotations

import functools
import math
import time

from comp._lazy import lazy_import

keras = lazy_import("keras")

SCHEDULES = ("constant", "cosine", "step")
FLOOR = 0.01  # the cosine ends at this share of the base rate
STEP_FACTOR = 0.1  # the step schedule multiplies the rate by this after each third of the phase


def scheduled_rate(schedule: str, base: float, done: float, warmup: float) -> float:
    """The rate when the share ``done`` (0..1) of the phase is done; the first ``warmup`` share ramps up linearly
    from a tenth of ``base``."""
    if schedule not in SCHEDULES:
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; known: {', '.join(SCHEDULES)}")
    if schedule == "constant":
        return base
    if done < warmup:
        return base * (0.1 + 0.9 * done / warmup)
    after = min(1.0, (done - warmup) / max(1e-9, 1.0 - warmup))
    if schedule == "cosine":
        return base * (FLOOR + (1.0 - FLOOR) * (1.0 + math.cos(math.pi * after)) / 2.0)
    return base * STEP_FACTOR ** min(2, int(after * 3))


@functools.cache
def phase_schedule_class():
    """The ``PhaseSchedule`` callback class, defined on first use so importing comp stays free of TensorFlow."""

    class PhaseSchedule(keras.callbacks.Callback):
        """Sets the optimizer's rate before every batch; counts the phase's steps and training seconds (carried
        over from a checkpoint when a fit resumes)."""

        def __init__(self, *, schedule: str, base: float, warmup: float, planned_steps: int, seconds_allowed: float | None,
                     steps_done: int = 0, seconds_done: float = 0.0):
            super().__init__()
            self.schedule, self.base, self.warmup = schedule, base, warmup
            self.planned_steps, self.seconds_allowed = planned_steps, seconds_allowed
            self.steps_done, self.seconds_done = steps_done, seconds_done
            self.started = time.perf_counter()

        def share_done(self) -> float:
            by_steps = self.steps_done / max(1, self.planned_steps)
            by_time = self.seconds() / self.seconds_allowed if self.seconds_allowed else 0.0
            return min(1.0, max(by_steps, by_time))

        def seconds(self) -> float:
            return self.seconds_done + time.perf_counter() - self.started

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_end(self, logs=None):
            self.seconds_done = self.seconds()
            self.started = time.perf_counter()

        def on_train_batch_begin(self, batch, logs=None):
            self.model.optimizer.learning_rate.assign(scheduled_rate(self.schedule, self.base, self.share_done(),
                                                                     self.warmup))

        def on_train_batch_end(self, batch, logs=None):
            self.steps_done += 1

    return PhaseSchedule


def phase_schedule(**options):
    """A ``PhaseSchedule`` callback (see ``phase_schedule_class``)."""
    return phase_schedule_class()(**options)
