"""The answer files of a sequence competition: a CSV ``id,<text column>,value`` and ``result.txt`` beside it
(``<text> <value>`` per image line, in the table's order, as the captcha rounds asked for)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from comp.io import read_submission_file, validate_submission, write_text


def answer_frame(ids, texts, value_of: Callable[[str], Any], text_column: str,
                 written: Callable[[Any], str] = str) -> pd.DataFrame:
    """The table ``id,<text_column>,value`` of the read ``texts`` ((n,) strings) and the value of each
    (``written(value_of(text))``, "" where ``value_of`` gives None: a text without a value), checked."""
    texts = [str(text) for text in np.asarray(texts, dtype=object)]
    values = [value_of(text) for text in texts]
    frame = pd.DataFrame({"id": list(ids), text_column: texts,
                          "value": ["" if value is None else written(value) for value in values]},
                         columns=["id", text_column, "value"])
    check_answers(frame, text_column)
    return frame


def check_answers(frame: pd.DataFrame, text_column: str) -> None:
    """The answer file's rules: header ``id,<text_column>,value`` and unique ids (one-line CompError otherwise)."""
    validate_submission(frame, columns=["id", text_column, "value"], id_column="id")


def check_answer_file(path: Path, text_column: str) -> None:
    """``check_answers`` on a CSV as it is written."""
    check_answers(read_submission_file(path), text_column)


def answers_csv(frame: pd.DataFrame) -> str:
    """The CSV text of an answer table."""
    return frame.to_csv(index=False, lineterminator="\n")


def result_text(frame: pd.DataFrame, text_column: str) -> str:
    """One ``<text> <value>`` line per row, in the table's order (no trailing space when the value is empty)."""
    return "".join(f"{text} {value}".rstrip() + "\n" for text, value in zip(frame[text_column],
                                                                           frame["value"].fillna("")))


def write_answers(frame: pd.DataFrame, csv_path: Path, text_column: str) -> tuple[Path, Path]:
    """Write the CSV at ``csv_path`` and result.txt beside it (both atomically, UTF-8)."""
    csv_path = Path(csv_path)
    return (write_text(csv_path, answers_csv(frame)),
            write_text(csv_path.parent / "result.txt", result_text(frame, text_column)))
