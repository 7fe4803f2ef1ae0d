"""Submission files: validation against the sample submission, and the atomic, never-overwriting write."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from comp.errors import CompError
from comp.io._runs import write_text

FLOAT_FORMAT = "%.8g"  # 8 significant digits: log loss is unchanged to ~1e-8, even for clipped values
CLASS_SUM_TOLERANCE = 1e-3  # how far a row of per-class probabilities may sum from 1


def read_submission_file(path: str | os.PathLike) -> pd.DataFrame:
    """A submission CSV exactly as written: every cell as text (ids keep leading zeros, an empty cell stays ``""``),
    so ``validate_submission`` judges the file the way Kaggle will read it."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError as error:
        raise CompError(f"submission file {path} does not exist") from error
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CompError(f"submission file {path} is not a readable CSV: {str(error).splitlines()[0]}") from error


def validate_submission(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str],
    id_column: str,
    sample: pd.DataFrame | None = None,
    value_range: tuple[float, float] | None = None,
    value_columns: Sequence[str] = (),
    class_columns: Sequence[str] = (),
) -> None:
    """Raise a one-line CompError for the first thing Kaggle would reject or mis-score; return if none.

    Checked in order: header, duplicate ids, row count and ids against ``sample`` (when given), then NaN/inf and
    ``value_range`` (inclusive) in each of ``value_columns``; ``class_columns`` are one probability column per class
    (a multi-class submission): each must be finite and in [0, 1], and every row must sum to 1 within
    ``CLASS_SUM_TOLERANCE``. Errors name the column and the row (1 = the first row under the header) with its id.
    """
    if list(frame.columns) != list(columns):
        raise CompError(f"submission header is wrong: expected columns {list(columns)}, got {list(frame.columns)}")
    ids = frame[id_column].astype(str)
    duplicated = np.flatnonzero(ids.duplicated().to_numpy())
    if len(duplicated):
        row = duplicated[0]
        raise CompError(f"submission has duplicate {id_column} {ids.iloc[row]} (row {row + 1})")
    if sample is not None:
        _check_ids_match_sample(ids.tolist(), sample[id_column].astype(str).tolist(), id_column)
    for column in value_columns:
        _finite_values(frame, column, ids, id_column, value_range)
    if class_columns:
        probabilities = np.column_stack([_finite_values(frame, column, ids, id_column, (0.0, 1.0))
                                         for column in class_columns])
        sums = probabilities.sum(axis=1)
        off = np.flatnonzero(np.abs(sums - 1.0) > CLASS_SUM_TOLERANCE)
        if len(off):
            row = off[0]
            raise CompError(f"submission class probabilities ({', '.join(class_columns)}) sum to {sums[row]:.6g} at "
                            f"{id_column} {ids.iloc[row]} (row {row + 1}); each row must sum to 1 within "
                            f"{CLASS_SUM_TOLERANCE:g}")


def check_submission_file(path: str | os.PathLike, *, sample_path: str | os.PathLike | None = None) -> None:
    """The generic guard of a submission file: with a sample submission, its header, ids, order and row count and
    finite numbers wherever the sample has numbers; without one, only duplicate ids in the first column."""
    frame = read_submission_file(path)
    if sample_path is None or not Path(sample_path).is_file():
        validate_submission(frame, columns=list(frame.columns), id_column=frame.columns[0])
        return
    sample = read_submission_file(sample_path)
    numeric = [column for column in sample.columns[1:] if pd.to_numeric(sample[column], errors="coerce").notna().all()]
    validate_submission(frame, columns=list(sample.columns), id_column=sample.columns[0], sample=sample,
                        value_columns=numeric)


def _finite_values(frame: pd.DataFrame, column: str, ids: pd.Series, id_column: str,
                   value_range: tuple[float, float] | None) -> np.ndarray:
    """``column`` as floats, shape (n_rows,); a CompError naming the first value that is missing, not a number,
    NaN, infinite or outside ``value_range`` (inclusive)."""
    values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    not_finite = np.flatnonzero(~np.isfinite(values))
    if len(not_finite):
        row = not_finite[0]
        original = frame[column].iloc[row]
        shown = repr(original) if isinstance(original, str) else str(original)
        raise CompError(f"submission column {column!r} has a non-finite value {shown} at {id_column} {ids.iloc[row]} "
                        f"(row {row + 1})")
    if value_range is not None:
        low, high = value_range
        outside = np.flatnonzero((values < low) | (values > high))
        if len(outside):
            row = outside[0]
            raise CompError(f"submission column {column!r} has value {values[row]:g} at {id_column} {ids.iloc[row]} "
                            f"(row {row + 1}), outside the range [{low:g}, {high:g}]")
    return values


def _check_ids_match_sample(ids: list[str], sample_ids: list[str], id_column: str) -> None:
    """Require the same rows, the same ids and the same order as the sample submission."""
    if len(ids) != len(sample_ids):
        raise CompError(f"submission has {len(ids)} rows but the sample submission has {len(sample_ids)}")
    present, expected = set(ids), set(sample_ids)
    missing = next((identifier for identifier in sample_ids if identifier not in present), None)
    extra = next((row for row, identifier in enumerate(ids) if identifier not in expected), None)
    differences = [f"missing {id_column} {missing}"] if missing is not None else []
    if extra is not None:
        differences.append(f"extra {id_column} {ids[extra]} (row {extra + 1})")
    if differences:
        raise CompError(f"submission ids differ from the sample submission: {', '.join(differences)}")
    for position, (identifier, sample_identifier) in enumerate(zip(ids, sample_ids)):
        if identifier != sample_identifier:
            raise CompError(
                f"submission rows are in a different order from the sample submission: row {position + 1} "
                f"has {id_column} {identifier}, the sample has {sample_identifier}"
            )


def save_submission(
    frame: pd.DataFrame,
    *,
    run_dir: Path,
    competition: str,
    run_id: str,
    submissions_root: Path = Path("submissions"),
) -> tuple[Path, Path]:
    """Write ``run_dir/submission.csv`` and a never-overwritten copy under ``submissions_root/<competition>/``."""
    text = frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")
    run_file = write_text(Path(run_dir) / "submission.csv", text)
    copy = _write_new_file(Path(submissions_root) / competition, run_id, text.encode("utf-8"))
    return run_file, copy


def _write_new_file(directory: Path, stem: str, data: bytes) -> Path:
    """Publish ``data`` as ``<stem>.csv`` (or ``<stem>-2.csv``, ...) without ever replacing an existing file.

    The bytes go to a temporary file first and are hard-linked to the first free name, so the
    copy appears complete or not at all, and a name taken meanwhile is never clobbered.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{stem}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise CompError(f"cannot write {directory / f'{stem}.csv'}: {error.strerror or error}") from error
    temporary_path = Path(temporary)
    target = directory / f"{stem}.csv"
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        attempt = 1
        while True:
            try:
                os.link(temporary_path, target)
                return target
            except FileExistsError:
                attempt += 1
                target = directory / f"{stem}-{attempt}.csv"
    except OSError as error:
        raise CompError(f"cannot write {target}: {error.strerror or error}") from error
    finally:
        temporary_path.unlink(missing_ok=True)
