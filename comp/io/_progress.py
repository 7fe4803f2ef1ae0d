"""Progress bars with rate and time left on a terminal, plain log lines per step when output goes to a file or CI."""

from __future__ import annotations

import contextlib
import logging
import sys
import time

from tqdm.auto import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

logger = logging.getLogger("comp.progress")


def format_seconds(seconds: float) -> str:
    """``42 s``, ``3 min 05 s`` or ``1 h 02 min``."""
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class _LogProgress:
    """tqdm's update/set_postfix_str interface writing one log line per step, at most every ``interval`` seconds.

    The last step is logged too when any earlier one was, so a long task shows that it finished.
    """

    def __init__(self, total: int, desc: str, unit: str, interval: float):
        self.total, self.desc, self.unit, self.interval = total, desc, unit, interval
        self.postfix = ""
        self.count = 0
        self.logged = False
        self.started = self.last = time.perf_counter()

    def update(self, amount: int = 1) -> None:
        self.count += amount
        now = time.perf_counter()
        finished = self.count >= self.total and self.count - amount < self.total
        if now - self.last >= self.interval or (finished and self.logged):
            self.last = now
            self.logged = True
            rate = self.count / max(now - self.started, 1e-9)
            left = max(0, self.total - self.count) / rate if rate > 0 else float("inf")
            postfix = f" [{self.postfix}]" if self.postfix else ""
            logger.info("%s: %d/%d %s (%.2f %s/s, %s left)%s", self.desc, self.count, self.total, self.unit, rate,
                        self.unit, format_seconds(left), postfix)

    def set_postfix_str(self, text: str) -> None:
        self.postfix = text

    def close(self) -> None:
        pass


@contextlib.contextmanager
def progress_bar(*, total: int, desc: str, unit: str = "it", enabled: bool = True, log_interval: float = 10.0,
                 leave: bool = True):
    """A tqdm bar with rate and time left on a terminal (log records printed above it); log lines otherwise.

    ``log_interval`` is the least number of seconds between two log lines (0: a line for every step).
    """
    if enabled and sys.stderr.isatty():
        with logging_redirect_tqdm(loggers=[logging.getLogger("comp")], tqdm_class=tqdm):
            bar = tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, leave=leave)
            try:
                yield bar
            finally:
                bar.close()
        return
    yield _LogProgress(total, desc, unit, log_interval if enabled else float("inf"))
