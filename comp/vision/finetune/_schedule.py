"""Learning rate of the fine-tuning phases (``comp.schedules``: a linear warm-up, then a cosine or step decay),
driven by the share of the phase done: the larger of steps done over steps planned and seconds spent over seconds
allowed, so a fit cut short by --time-budget still decays."""

from __future__ import annotations

import functools
import time

from comp._lazy import lazy_import
from comp.schedules import learning_rate_at

keras = lazy_import("keras")

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
            self.model.optimizer.learning_rate.assign(learning_rate_at(self.schedule, self.base, self.share_done(),
                                                                       warmup=self.warmup))

        def on_train_batch_end(self, batch, logs=None):
            self.steps_done += 1

    return PhaseSchedule


def phase_schedule(**options):
    """A ``PhaseSchedule`` callback (see ``phase_schedule_class``)."""
    return phase_schedule_class()(**options)
