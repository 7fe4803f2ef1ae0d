"""The dogs submission rules, applied when a run writes its file and when ``comp submit`` checks any file."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from comp.io import read_submission_file, validate_submission
from competitions.dogs.reader import read_sample_submission, read_test

logger = logging.getLogger("comp.dogs")
COLUMNS = ["id", "label"]


def check_submission(frame: pd.DataFrame, expected: pd.DataFrame | None) -> None:
    """``id,label`` with unique ids (with ``expected``: exactly its ids, in its order) and P(dog) finite in [0, 1];
    a one-line CompError naming the first bad row or column."""
    validate_submission(frame, columns=COLUMNS, id_column="id", sample=expected, value_range=(0.0, 1.0),
                        value_columns=["label"])


def expected_ids(data_dir: Path | None) -> pd.DataFrame | None:
    """The ids a submission must list, in order (an ``id`` column): ``sample_submission.csv`` when ``data_dir`` has
    one (checked against test/ when that is there too), else the test images' ids in id order; None without either."""
    if data_dir is None or not Path(data_dir).is_dir():
        return None
    test = read_test(Path(data_dir) / "test") if (Path(data_dir) / "test").is_dir() else None
    sample = read_sample_submission(Path(data_dir) / "sample_submission.csv", test)
    return sample if sample is not None else test


def check_submission_file(path: Path, data_dir: Path | None) -> None:
    """``check_submission`` on the file as Kaggle will read it, against the ids of ``data_dir`` when it has them."""
    expected = expected_ids(data_dir)
    if expected is None:
        logger.warning("%s: ids, their order and the row count are not checked: no sample_submission.csv or test/ "
                       "in %s (pass --data DIR)", path, data_dir)
    check_submission(read_submission_file(path), expected)
