"""The answer files: a CSV ``id,expression,value`` and ``result.txt`` (``<expression> <value>`` per image line).

An unparseable expression keeps its text and gets an empty value; an image nothing could be read from is
an empty expression with an empty value.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from comp.io import read_submission_file, validate_submission, write_text
from competitions.captcha.expressions import value_or_none

COLUMNS = ["id", "expression", "value"]


def answer_table(ids, expressions) -> pd.DataFrame:
    """id, expression and its value as text ("" when it does not parse), validated like a submission."""
    expressions = [str(expression) for expression in np.asarray(expressions, dtype=object)]
    values = [value_or_none(expression) for expression in expressions]
    frame = pd.DataFrame({"id": list(ids), "expression": expressions,
                          "value": ["" if value is None else str(value) for value in values]}, columns=COLUMNS)
    check_answers(frame)
    return frame


def check_answers(frame: pd.DataFrame) -> None:
    """The answer file's rules: header ``id,expression,value`` and unique ids (one-line CompError otherwise)."""
    validate_submission(frame, columns=COLUMNS, id_column="id")


def check_answer_file(path: Path) -> None:
    """``check_answers`` on a CSV as it is written."""
    check_answers(read_submission_file(path))


def table_csv(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, lineterminator="\n")


def result_text(frame: pd.DataFrame) -> str:
    """One ``<expression> <value>`` line per row, in the table's order."""
    return "".join(f"{expression} {value}".rstrip() + "\n" for expression, value in zip(frame["expression"],
                                                                                         frame["value"]))


def write_answers(frame: pd.DataFrame, csv_path: Path) -> tuple[Path, Path]:
    """Write the CSV at ``csv_path`` and result.txt beside it (both atomically)."""
    csv_path = Path(csv_path)
    return write_text(csv_path, table_csv(frame)), write_text(csv_path.parent / "result.txt", result_text(frame))
