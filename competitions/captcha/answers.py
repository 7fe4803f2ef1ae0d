"""The answer files: a CSV ``id,expression,value`` and ``result.txt`` (``<expression> <value>`` per image line),
written by ``comp.sequence``'s answer files.

An unparseable expression keeps its text and gets an empty value; an image nothing could be read from is
an empty expression with an empty value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from comp import sequence
from competitions.captcha.expressions import value_or_none

TEXT_COLUMN = "expression"


def answer_table(ids, expressions) -> pd.DataFrame:
    """id, expression and its value as text ("" when it does not parse), validated like a submission."""
    return sequence.answer_frame(ids, expressions, value_or_none, TEXT_COLUMN)


def check_answer_file(path: Path) -> None:
    """The rules of the answer CSV as it is written: header ``id,expression,value``, unique ids."""
    sequence.check_answer_file(path, TEXT_COLUMN)


def table_csv(frame: pd.DataFrame) -> str:
    return sequence.answers_csv(frame)


def result_text(frame: pd.DataFrame) -> str:
    """One ``<expression> <value>`` line per row, in the table's order."""
    return sequence.result_text(frame, TEXT_COLUMN)


def write_answers(frame: pd.DataFrame, csv_path: Path) -> tuple[Path, Path]:
    """Write the CSV at ``csv_path`` and result.txt beside it (both atomically)."""
    return sequence.write_answers(frame, csv_path, TEXT_COLUMN)
