"""The submission ledger ``<submissions_root>/<comp>/ledger.csv``: one row per upload, CV beside the public LB.

Each ``comp submit`` appends its time (UTC), run, file and its sha256, the run's OOF score and final candidate,
and the message; the public score is filled in from ``kaggle competitions submissions`` when it can be fetched
(matched by Kaggle's submission ref once known, else by message and time). ``comp submissions`` prints the table
with the CV-vs-LB gap, their correlation and the quota left today.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import FileLock

from comp.errors import CompError
from comp.io._kaggle import kaggle_output
from comp.io._runs import atomic_path

logger = logging.getLogger("comp")

LEDGER_COLUMNS = ["time", "run_id", "file", "sha256", "metric", "direction", "cv_score", "final_candidate",
                  "message", "forced", "kaggle_ref", "kaggle_status", "public_score"]
MATCH_WINDOW = pd.Timedelta(hours=6)  # how far Kaggle's submission date may be from the ledger's time to match
MIN_CORRELATION_PAIRS = 3
DEFAULT_DAILY_SUBMISSIONS = 5  # Kaggle's usual daily limit; a competition sets its own with `daily_submissions`


def ledger_path(submissions_root: str | os.PathLike, competition: str) -> Path:
    """``<submissions_root>/<competition>/ledger.csv`` (beside the never-overwritten submission copies)."""
    return Path(submissions_root) / competition / "ledger.csv"


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes: the identity of a submission in the ledger."""
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError as error:
        raise CompError(f"cannot read {path}: {error.strerror or error}") from error
    return digest.hexdigest()


def utc_now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


def utc_stamp(moment: _dt.datetime) -> str:
    """``2024-05-01T12:34:56Z``: the ledger's time format."""
    return moment.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def read_ledger(path: str | os.PathLike) -> pd.DataFrame:
    """The ledger as text cells in ``LEDGER_COLUMNS`` order (empty when the file does not exist yet)."""
    path = Path(path)
    if not path.exists():
        return pd.DataFrame(columns=LEDGER_COLUMNS, dtype=str)
    try:
        ledger = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CompError(f"the submission ledger {path} is not a readable CSV: {str(error).splitlines()[0]}; "
                        f"move it aside to start a new one") from error
    for column in LEDGER_COLUMNS:
        if column not in ledger:
            ledger[column] = ""
    return ledger[LEDGER_COLUMNS]


def _write_ledger(path: Path, ledger: pd.DataFrame) -> None:
    with atomic_path(path) as temporary:
        ledger[LEDGER_COLUMNS].to_csv(temporary, index=False, lineterminator="\n")


def _lock(path: Path) -> FileLock:
    """An inter-process lock beside the ledger, so two submits at once both keep their row."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CompError(f"cannot write {path}: {error.strerror or error}") from error
    return FileLock(str(path.with_name(f".{path.name}.lock")), timeout=60)


def append_to_ledger(path: str | os.PathLike, row: dict) -> pd.DataFrame:
    """Add one submission (keys from ``LEDGER_COLUMNS``; missing ones empty) and rewrite the file atomically."""
    path = Path(path)
    with _lock(path):
        ledger = read_ledger(path)
        entry = pd.DataFrame([{column: "" if row.get(column) is None else str(row.get(column))
                               for column in LEDGER_COLUMNS}])
        ledger = pd.concat([ledger, entry], ignore_index=True) if len(ledger) else entry
        _write_ledger(path, ledger)
    return ledger


def earlier_submission(ledger: pd.DataFrame, sha256: str) -> pd.Series | None:
    """The first ledger row that uploaded a file with this hash, or None."""
    same = ledger[ledger["sha256"] == sha256]
    return same.iloc[0] if len(same) else None


def fetch_kaggle_submissions(slug: str) -> pd.DataFrame:
    """The team's recent submissions to ``slug`` (ref, fileName, date, description, status, publicScore) as the
    kaggle CLI prints them with ``--csv``; empty when there are none."""
    text = kaggle_output(["kaggle", "competitions", "submissions", "-c", slug, "--csv"])
    lines = text.splitlines()
    header = next((number for number, line in enumerate(lines) if "publicScore" in line.split(",")), None)
    if header is None:
        if any("No submissions found" in line for line in lines):
            return pd.DataFrame(columns=["ref", "fileName", "date", "description", "status", "publicScore"])
        raise CompError(f"`kaggle competitions submissions -c {slug} --csv` printed no CSV header with publicScore")
    fetched = pd.read_csv(io.StringIO("\n".join(lines[header:])), dtype=str, keep_default_na=False)
    for column in ("ref", "fileName", "date", "description", "status", "publicScore"):
        if column not in fetched:
            fetched[column] = ""
    return fetched


def _score(text: str) -> float | None:
    """A score cell as a float; None when empty, "None" or not a number."""
    value = pd.to_numeric(pd.Series([text]), errors="coerce").iloc[0]
    return None if pd.isna(value) else float(value)


def match_public_scores(ledger: pd.DataFrame, fetched: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Fill ``kaggle_ref``, ``kaggle_status`` and ``public_score`` of ledger rows from Kaggle's list: by ref once
    known, else by message with the nearest date within ``MATCH_WINDOW``, each Kaggle submission used once.
    Returns the ledger and how many public scores were filled."""
    ledger = ledger.copy()
    fetched = fetched.assign(when=pd.to_datetime(fetched["date"], utc=True, errors="coerce", format="mixed"))
    claimed = set(ledger["kaggle_ref"]) - {""}
    times = pd.to_datetime(ledger["time"], utc=True, errors="coerce", format="mixed")
    filled = 0
    for index in times.sort_values().index:
        ref = ledger.at[index, "kaggle_ref"]
        if ref:
            match = fetched[fetched["ref"].astype(str) == ref]
        else:
            candidates = fetched[(fetched["description"].str.strip() == ledger.at[index, "message"].strip())
                                 & ~fetched["ref"].astype(str).isin(claimed)]
            distance = (candidates["when"] - times[index]).abs()
            match = candidates.loc[distance[distance <= MATCH_WINDOW].sort_values().index]
        if match.empty:
            continue
        found = match.iloc[0]
        ledger.at[index, "kaggle_ref"] = str(found["ref"])
        claimed.add(str(found["ref"]))
        ledger.at[index, "kaggle_status"] = str(found["status"])
        score = _score(found["publicScore"])
        if score is not None and _score(ledger.at[index, "public_score"]) != score:
            ledger.at[index, "public_score"] = repr(score)
            filled += 1
    return ledger, filled


def refresh_public_scores(path: str | os.PathLike, slug: str) -> pd.DataFrame:
    """Fetch the public scores with the kaggle CLI and store them in the ledger; when the fetch fails, log one line
    and return the ledger as it was (a score is never worth failing a submission for)."""
    path = Path(path)
    try:
        fetched = fetch_kaggle_submissions(slug)
    except CompError as error:
        logger.warning("public scores not fetched: %s", error)
        return read_ledger(path)
    with _lock(path):
        ledger, filled = match_public_scores(read_ledger(path), fetched)
        if len(ledger):
            _write_ledger(path, ledger)
    logger.info("public scores: %d new from Kaggle's %d most recent submissions", filled, len(fetched))
    return ledger


def cv_lb_gap(cv: float, public: float, direction: str) -> float:
    """How much worse the public LB is than CV, in metric units (positive: worse; the sign follows ``direction``)."""
    return public - cv if direction == "minimize" else cv - public


def pearson(first: np.ndarray, second: np.ndarray) -> float | None:
    """Pearson correlation of two equal-length series; None under ``MIN_CORRELATION_PAIRS`` or without variance."""
    first, second = np.asarray(first, float), np.asarray(second, float)
    if len(first) < MIN_CORRELATION_PAIRS or first.std() == 0 or second.std() == 0:
        return None
    return float(np.corrcoef(first, second)[0, 1])


@dataclass(frozen=True)
class LedgerSummary:
    """The figures under the ledger table: per-row gap, the CV/LB correlation and today's quota."""
    gaps: list[float | None]
    correlation: float | None
    pairs: int
    mean_gap: float | None
    used_today: int
    daily_quota: int

    @property
    def left_today(self) -> int:
        return max(0, self.daily_quota - self.used_today)


def ledger_scores(ledger: pd.DataFrame) -> tuple[list[float | None], list[float | None], list[float | None]]:
    """Each row's CV score, public score and their gap (``cv_lb_gap``; None where a score is missing)."""
    cv = [_score(value) for value in ledger["cv_score"]]
    public = [_score(value) for value in ledger["public_score"]]
    gaps = [cv_lb_gap(c, p, direction) if c is not None and p is not None else None
            for c, p, direction in zip(cv, public, ledger["direction"])]
    return cv, public, gaps


def summarize_ledger(ledger: pd.DataFrame, *, daily_quota: int, now: _dt.datetime | None = None) -> LedgerSummary:
    """Gap and correlation over the rows having both a CV and a public score; uploads counted per UTC day."""
    now = now or utc_now()
    cv, public, gaps = ledger_scores(ledger)
    pairs = [(c, p) for c, p in zip(cv, public) if c is not None and p is not None]
    known = [gap for gap in gaps if gap is not None]
    days = pd.to_datetime(ledger["time"], utc=True, errors="coerce", format="mixed").dt.date
    today = now.astimezone(_dt.timezone.utc).date()
    return LedgerSummary(gaps=gaps, correlation=pearson(*zip(*pairs)) if pairs else None, pairs=len(pairs),
                         mean_gap=float(np.mean(known)) if known else None,
                         used_today=int((days == today).sum()), daily_quota=int(daily_quota))


def format_ledger(ledger: pd.DataFrame, summary: LedgerSummary) -> str:
    """The ledger as a plain-text table with the gap column, then the correlation and quota lines."""
    headers = ["time (UTC)", "run", "final candidate", "CV", "public LB", "gap", "sha256", "message"]
    rows = []
    for (_, row), cv, public, gap in zip(ledger.iterrows(), *ledger_scores(ledger)):
        lb = f"{public:.5f}" if public is not None else (row["kaggle_status"] or "-")
        rows.append([row["time"].replace("T", " ").removesuffix("Z"), row["run_id"] or "(file)",
                     row["final_candidate"] or "-", f"{cv:.5f}" if cv is not None else "-", lb,
                     f"{gap:+.5f}" if gap is not None else "-", row["sha256"][:12],
                     row["message"] + (" [forced]" if row["forced"] == "True" else "")])
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    lines = ["  ".join(str(cell).ljust(width) for cell, width in zip(line, widths)).rstrip()
             for line in [headers, *rows]]
    metric = next((name for name in ledger["metric"] if name), "")
    correlation = (f"{summary.correlation:+.3f}" if summary.correlation is not None
                   else f"n/a (needs {MIN_CORRELATION_PAIRS} submissions with both scores)")
    mean_gap = (f"; mean gap {summary.mean_gap:+.5f} (positive: the public LB is worse than CV)"
                if summary.mean_gap is not None else "")
    lines.append(f"CV {metric} vs public LB over {summary.pairs} submission(s): Pearson r {correlation}{mean_gap}")
    lines.append(f"submissions left today (UTC): {summary.left_today} of {summary.daily_quota}")
    return "\n".join(lines)
