"""Progress bars on a terminal, one plain log line per step when output goes to a file or CI."""

from __future__ import annotations

import contextlib
import logging
import sys
import time

from tqdm.auto import tqdm

logger = logging.getLogger("comp.progress")


class _LogProgress:
    """tqdm's update/set_postfix interface writing a log line at most every ``interval`` seconds."""

    def __init__(self, total: int, desc: str, unit: str, interval: float = 10.0):
        self.total, self.desc, self.unit, self.interval = total, desc, unit, interval
        self.count = 0
        self.started = self.last = time.perf_counter()

    def update(self, amount: int = 1) -> None:
        self.count += amount
        now = time.perf_counter()
        finished = self.count >= self.total and self.count - amount < self.total
        if now - self.last >= self.interval or finished:
            self.last = now
            rate = self.count / max(now - self.started, 1e-9)
            logger.info("%s: %d/%d %s (%.1f %s/s)", self.desc, self.count, self.total, self.unit, rate, self.unit)

    def set_postfix_str(self, text: str) -> None:
        self.desc = f"{self.desc.split(' [')[0]} [{text}]"

    def close(self) -> None:
        pass


@contextlib.contextmanager
def progress_bar(*, total: int, desc: str, unit: str = "it", enabled: bool = True):
    """A tqdm bar with rate and time left on a terminal; periodic log lines otherwise."""
    if enabled and sys.stderr.isatty():
        bar = tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, leave=True)
    else:
        bar = _LogProgress(total, desc, unit)
    try:
        yield bar
    finally:
        bar.close()
