"""Keep TensorFlow's native log lines off the terminal: they are written by C++ (absl/TSL) straight to file
descriptor 2, where ``TF_CPP_MIN_LOG_LEVEL`` no longer reaches them all (``port.cc`` oneDNN notes, grappler's
``NodeDef mentions attribute ...`` warnings), so fd 2 is read through a filter that drops exactly those lines.

Python's own ``sys.stderr`` (logging, progress bars, warnings) is pointed at the real stderr, so it is never
delayed or reordered; only what native code writes to fd 2 passes the filter, and anything that is not a native
log line (a crash report, another library's message) is passed on unchanged.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from typing import Iterator

NATIVE_LOG_LINE = re.compile(
    rb"^(?:[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [\w.\-]+:\d+\] "  # absl: I0000 00:00:1795657229.37 4083 port.cc:153]
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\] "  # TSL's own format
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$)")


def drop_native_log_lines(lines: bytes) -> bytes:
    """``lines`` (complete lines, newline-terminated) without the native log lines."""
    return b"".join(line for line in lines.splitlines(keepends=True) if not NATIVE_LOG_LINE.match(line))


@contextlib.contextmanager
def native_log_filter() -> Iterator[None]:
    """Filter what native code writes to fd 2 while the block runs; Python's ``sys.stderr`` stays unfiltered.

    Does nothing when ``sys.stderr`` is not the process's fd 2 (inside pytest's capture, say).
    """
    try:
        is_fd2 = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        is_fd2 = False
    if not is_fd2:
        yield
        return
    sys.stderr.flush()
    terminal = os.dup(2)
    read_end, write_end = os.pipe()
    os.dup2(write_end, 2)
    os.close(write_end)
    python_stderr = sys.stderr
    sys.stderr = open(os.dup(terminal), "w", buffering=1, encoding=python_stderr.encoding,
                      errors=python_stderr.errors, closefd=True)

    def forward() -> None:
        pending = b""
        while chunk := os.read(read_end, 65536):
            lines, _, pending = (pending + chunk).rpartition(b"\n")
            if lines:
                os.write(terminal, drop_native_log_lines(lines + b"\n"))
        if pending and not NATIVE_LOG_LINE.match(pending):
            os.write(terminal, pending)

    reader = threading.Thread(target=forward, name="native-log-filter", daemon=True)
    reader.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        sys.stderr.close()
        sys.stderr = python_stderr
        os.dup2(terminal, 2)  # the pipe's last writer in this process is gone: the reader sees end of file
        reader.join(timeout=5)  # a child process still holding the pipe must not stall the exit
        os.close(terminal)
        if not reader.is_alive():
            os.close(read_end)
