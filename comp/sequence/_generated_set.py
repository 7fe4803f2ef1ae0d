"""A fixed generated data set kept in the cache: written once into a scratch folder, then renamed into place whole,
so concurrent runs never see half of one. Generated-data runs of the captcha rounds validate on such a set."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path


def generated_set(target: Path, write: Callable[[Path], object]) -> Path:
    """``target``, written by ``write(folder)`` when it does not exist yet; returns ``target``."""
    target = Path(target)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        write(scratch)
        os.rename(scratch, target)
    except OSError:
        if not target.is_dir():  # another run that finished first is fine; anything else is not
            raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
