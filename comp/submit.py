"""Submission files: validation against the sample, atomic writing, Kaggle upload and data download."""

from __future__ import annotations

import io
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections import deque
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from comp.errors import CompError
from comp.runs import write_text

FLOAT_FORMAT = "%.8g"  # 8 significant digits: log loss is unchanged to ~1e-8, even for clipped values
CREDENTIAL_FILES = ("kaggle.json", "access_token")
NO_CREDENTIALS = (
    "no Kaggle credentials: create an API token at https://www.kaggle.com/settings and save it as "
    "~/.kaggle/kaggle.json (chmod 600), or set KAGGLE_USERNAME and KAGGLE_KEY"
)
NO_KAGGLE_CLI = (
    "the kaggle CLI is not installed or not on PATH; install it with `pip install kaggle` "
    "(it is a dependency of comp: activate .venv)"
)


def validate_submission(
    frame: pd.DataFrame,
    *,
    columns: Sequence[str],
    id_column: str,
    sample: pd.DataFrame | None = None,
    value_range: tuple[float, float] | None = None,
    value_columns: Sequence[str] = (),
) -> None:
    """Raise a one-line CompError for the first thing Kaggle would reject or mis-score; return if none.

    Checked in order: header, duplicate ids, row count and ids against ``sample`` (when given),
    then NaN/inf and ``value_range`` (inclusive) in each of ``value_columns``.
    """
    if list(frame.columns) != list(columns):
        raise CompError(f"submission header is wrong: expected columns {list(columns)}, got {list(frame.columns)}")
    ids = frame[id_column].astype(str)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise CompError(f"submission has duplicate {id_column} {duplicated.iloc[0]}")
    if sample is not None:
        _check_ids_match_sample(ids.tolist(), sample[id_column].astype(str).tolist(), id_column)
    for column in value_columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        not_finite = np.flatnonzero(~np.isfinite(values))
        if len(not_finite):
            row = not_finite[0]
            original = frame[column].iloc[row]
            shown = repr(original) if isinstance(original, str) else str(original)
            raise CompError(
                f"submission column {column!r} has a non-finite value {shown} at {id_column} {ids.iloc[row]}"
            )
        if value_range is not None:
            low, high = value_range
            outside = np.flatnonzero((values < low) | (values > high))
            if len(outside):
                row = outside[0]
                raise CompError(
                    f"submission column {column!r} has value {values[row]:g} at {id_column} {ids.iloc[row]}, "
                    f"outside the range [{low:g}, {high:g}]"
                )


def _check_ids_match_sample(ids: list[str], sample_ids: list[str], id_column: str) -> None:
    """Require the same rows, the same ids and the same order as the sample submission."""
    if len(ids) != len(sample_ids):
        raise CompError(f"submission has {len(ids)} rows but the sample submission has {len(sample_ids)}")
    present, expected = set(ids), set(sample_ids)
    missing = next((identifier for identifier in sample_ids if identifier not in present), None)
    extra = next((identifier for identifier in ids if identifier not in expected), None)
    differences = [f"{kind} {id_column} {identifier}" for kind, identifier in (("missing", missing), ("extra", extra))
                   if identifier is not None]
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


def kaggle_submit_command(slug: str, file: Path, message: str) -> list[str]:
    """The kaggle CLI call that uploads ``file`` to competition ``slug``."""
    return ["kaggle", "competitions", "submit", "-c", slug, "-f", str(file), "-m", message]


def find_kaggle() -> str:
    """Path of the ``kaggle`` executable on PATH."""
    executable = shutil.which("kaggle")
    if executable is None:
        raise CompError(NO_KAGGLE_CLI)
    return executable


def check_kaggle_credentials() -> None:
    """Fail early, with the fix, when the kaggle CLI would find no credentials."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return
    if os.environ.get("KAGGLE_API_TOKEN"):
        return
    xdg_config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    directories = [Path.home() / ".kaggle", xdg_config / "kaggle"]  # the CLI falls back to the XDG folder on Linux
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        directories.insert(0, Path(os.environ["KAGGLE_CONFIG_DIR"]))
    if any((directory / name).is_file() for directory in directories for name in CREDENTIAL_FILES):
        return
    raise CompError(NO_CREDENTIALS)


def upload_submission(slug: str, file: Path, message: str, *, dry_run: bool = False) -> str:
    """Upload ``file`` with the kaggle CLI and return the shell-quoted command; ``dry_run`` only returns it."""
    file = Path(file)
    if not file.is_file():
        raise CompError(f"submission file {file} does not exist")
    command = kaggle_submit_command(slug, file, message)
    if dry_run:
        return shlex.join(command)
    exit_code, last_line = _run_kaggle(command)
    if exit_code != 0:
        raise CompError(
            f"kaggle upload failed (exit {exit_code}): {last_line}; the submission file {file} is unchanged"
        )
    return shlex.join(command)


def download_competition(slug: str, out_dir: Path) -> Path:
    """Download competition ``slug`` into ``out_dir`` and unpack it, nested zips included."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CompError(f"cannot create {out_dir}: {error.strerror or error}") from error
    exit_code, last_line = _run_kaggle(["kaggle", "competitions", "download", "-c", slug, "-p", str(out_dir)])
    if exit_code != 0:
        raise CompError(
            f"kaggle download failed (exit {exit_code}): {last_line}; if you have not yet, accept the rules "
            f"on https://www.kaggle.com/competitions/{slug}/rules with the account of your API token"
        )
    archive = out_dir / f"{slug}.zip"
    if not archive.is_file():
        raise CompError(f"kaggle download finished but {archive} is not there")
    pending = deque([archive])
    while pending:
        current = pending.popleft()
        extracted = _extract_zip(current, current.parent)
        current.unlink()
        pending.extend(path for path in extracted if path.suffix.lower() == ".zip" and path.is_file())
    return out_dir


def _extract_zip(archive: Path, destination: Path) -> list[Path]:
    """Unpack ``archive`` into ``destination``, refusing members that would land outside it (zip-slip)."""
    root = destination.resolve()
    try:
        with zipfile.ZipFile(archive) as opened:
            members = opened.namelist()
            for member in members:
                if not (root / member).resolve().is_relative_to(root):
                    raise CompError(f"{archive} holds {member!r}, which would be written outside {destination}")
            opened.extractall(destination)
    except zipfile.BadZipFile as error:
        raise CompError(f"{archive} is not a valid zip file: {error}") from error
    except OSError as error:
        raise CompError(f"cannot unpack {archive}: {error.strerror or error}") from error
    return [destination / member for member in members]


def _run_kaggle(command: list[str]) -> tuple[int, str]:
    """Run a kaggle CLI command (checked first), echoing its output; return its exit code and last output line."""
    executable = find_kaggle()
    check_kaggle_credentials()
    last_line = "(no output)"
    with subprocess.Popen([executable, *command[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        # newline="" splits lines at "\r" too but keeps it, so progress bars still redraw in place
        for line in io.TextIOWrapper(process.stdout, encoding="utf-8", errors="replace", newline=""):
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.strip():
                last_line = line.strip()
    return process.returncode, last_line
