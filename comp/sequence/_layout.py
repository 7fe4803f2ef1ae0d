"""The captcha layouts: a folder of N.png files (N = 0, 1, ...), listed in numeric order, and its labels.txt lines."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from comp.errors import CompError

NUMBERED_PNG = re.compile(r"^(\d+)\.png$", re.IGNORECASE)


def numbered_pngs(directory: Path, layout: str) -> pd.DataFrame:
    """id (the number N) and path of every N.png in ``directory``, in numeric order; another PNG name or a repeated
    number is a one-line CompError ending with ``layout`` (what the competition expects)."""
    rows = []
    for path in sorted(Path(directory).iterdir()):
        if not path.is_file() or path.name.startswith(".") or path.suffix.lower() != ".png":
            continue
        match = NUMBERED_PNG.match(path.name)
        if match is None:
            raise CompError(f"image {path} is not named N.png ({layout})")
        rows.append({"id": int(match.group(1)), "path": str(path)})
    frame = pd.DataFrame(rows, columns=["id", "path"]).sort_values("id", kind="stable").reset_index(drop=True)
    duplicated = frame["path"][frame["id"].duplicated()]
    if len(duplicated):
        raise CompError(f"image {duplicated.iloc[0]} has the same number as another image in {directory}")
    return frame


def label_lines(path: Path, layout: str) -> list[str]:
    """The lines of the UTF-8 ``path`` (labels.txt), blank lines at the end left out; a missing file or one that is
    not UTF-8 is a one-line CompError (ending with ``layout`` when missing)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise CompError(f"{path} does not exist ({layout})") from None
    except UnicodeDecodeError as error:
        raise CompError(f"{path} is not UTF-8 text: {error.reason} at byte {error.start}") from None
    while lines and not lines[-1].strip():
        lines.pop()
    return lines
