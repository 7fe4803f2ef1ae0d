"""The answer files: a CSV ``id,formulas,value`` and ``result.txt`` (the label format, ``<formulas> <value>`` per
image line, in image order), written by ``comp.sequence``'s answer files. Ungrammatical formulas keep their text and
get an empty value; an image nothing could be read from is empty formulas with an empty value."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from comp import sequence
from competitions.captcha_final.formulas import format_value
from competitions.captcha_final.scoring import value_or_none

TEXT_COLUMN = "formulas"


def answer_table(ids, formulas) -> pd.DataFrame:
    """id, formulas and their value to two decimals ("" when they are not grammatical), validated."""
    return sequence.answer_frame(ids, formulas, value_or_none, TEXT_COLUMN, format_value)


def save_answers(frame: pd.DataFrame, csv_path: Path) -> Path:
    """Write the CSV at ``csv_path`` and result.txt beside it; the CSV's path."""
    csv_path, _ = sequence.write_answers(frame, csv_path, TEXT_COLUMN)
    return csv_path


def check_answer_file(path: Path) -> None:
    """The rules of the answer CSV as it is written: header ``id,formulas,value``, unique ids."""
    sequence.check_answer_file(path, TEXT_COLUMN)
