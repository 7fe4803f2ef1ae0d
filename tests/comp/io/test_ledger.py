"""The submission ledger: appending, matching Kaggle's public scores, gap, correlation and the daily quota."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from comp import CompError
from comp import io as comp_io

NOW = dt.datetime(2024, 5, 2, 15, 0, tzinfo=dt.timezone.utc)


def row(time, message, cv="", public="", ref="", direction="minimize", sha="ab" * 32):
    return {"time": time, "run_id": "r1", "file": "s.csv", "sha256": sha, "metric": "log_loss",
            "direction": direction, "cv_score": cv, "final_candidate": "blend", "message": message, "forced": "False",
            "kaggle_ref": ref, "kaggle_status": "", "public_score": public}


def kaggle_list(*entries):
    """Kaggle's ``submissions --csv`` table: (ref, description, date, status, publicScore) per submission."""
    return pd.DataFrame([{"ref": ref, "fileName": "s.csv", "date": date, "description": description,
                          "status": status, "publicScore": score, "privateScore": ""}
                         for ref, description, date, status, score in entries])


def test_rows_are_appended_in_order_and_read_back_with_every_column(tmp_path):
    path = comp_io.ledger_path(tmp_path / "submissions", "dogs")
    comp_io.append_to_ledger(path, row("2024-05-01T10:00:00Z", "first", cv=0.2))
    comp_io.append_to_ledger(path, {"time": "2024-05-01T11:00:00Z", "message": "second, with a comma"})
    ledger = comp_io.read_ledger(path)
    assert path == tmp_path / "submissions" / "dogs" / "ledger.csv"
    assert list(ledger.columns) == comp_io.LEDGER_COLUMNS
    assert ledger["message"].tolist() == ["first", "second, with a comma"]
    assert ledger["cv_score"].tolist() == ["0.2", ""]
    assert [entry.name for entry in path.parent.iterdir() if entry.name.endswith(".tmp")] == []


def test_an_unreadable_ledger_is_named_with_the_fix(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(CompError, match=r"ledger\.csv is not a readable CSV: .*move it aside"):
        comp_io.read_ledger(path)


def test_public_scores_match_by_message_and_nearest_date_each_kaggle_submission_once():
    ledger = pd.DataFrame([row("2024-05-01T10:00:00Z", "same message"), row("2024-05-01T12:00:00Z", "same message"),
                           row("2024-05-01T13:00:00Z", "still scoring")])
    fetched = kaggle_list(("7", "same message", "2024-05-01 12:00:09", "complete", "0.31"),
                          ("5", "same message", "2024-05-01 10:00:07.123", "complete", "0.42"),
                          ("9", "still scoring", "2024-05-01 13:00:05", "pending", ""),
                          ("3", "another tool's upload", "2024-05-01 10:00:01", "complete", "0.99"))
    matched, filled = comp_io.match_public_scores(ledger, fetched)
    assert matched["kaggle_ref"].tolist() == ["5", "7", "9"]
    assert matched["public_score"].tolist() == ["0.42", "0.31", ""]
    assert matched["kaggle_status"].tolist() == ["complete", "complete", "pending"]
    assert filled == 2


def test_a_known_ref_is_matched_by_ref_and_a_far_date_is_not_matched():
    ledger = pd.DataFrame([row("2024-05-01T10:00:00Z", "renamed on Kaggle", ref="11"),
                           row("2024-05-01T10:00:00Z", "too late")])
    fetched = kaggle_list(("11", "edited description", "2024-05-01 10:00:03", "complete", "0.25"),
                          ("12", "too late", "2024-05-03 10:00:00", "complete", "0.5"))
    matched, filled = comp_io.match_public_scores(ledger, fetched)
    assert matched["public_score"].tolist() == ["0.25", ""] and filled == 1


def test_the_gap_says_how_much_worse_the_leaderboard_is_in_either_direction():
    assert comp_io.cv_lb_gap(0.20, 0.23, "minimize") == pytest.approx(0.03)
    assert comp_io.cv_lb_gap(0.90, 0.88, "maximize") == pytest.approx(0.02)
    assert comp_io.cv_lb_gap(0.90, 0.95, "maximize") == pytest.approx(-0.05)


def test_correlation_needs_three_pairs_and_quota_counts_todays_uploads_in_utc():
    ledger = pd.DataFrame([row("2024-05-01T23:59:59Z", "yesterday", cv="0.3", public="0.32"),
                           row("2024-05-02T00:00:01Z", "today 1", cv="0.2", public="0.25"),
                           row("2024-05-02T14:00:00Z", "today 2", cv="0.1")])
    summary = comp_io.summarize_ledger(ledger, daily_quota=5, now=NOW)
    assert summary.correlation is None and summary.pairs == 2
    assert summary.gaps[0] == pytest.approx(0.02) and summary.gaps[2] is None
    assert (summary.used_today, summary.left_today) == (2, 3)
    text = comp_io.format_ledger(ledger, summary)
    assert "Pearson r n/a (needs 3 submissions with both scores)" in text
    assert text.splitlines()[-1] == "submissions left today (UTC): 3 of 5"


def test_quota_left_never_goes_below_zero():
    ledger = pd.DataFrame([row(f"2024-05-02T0{hour}:00:00Z", "x") for hour in range(3)])
    assert comp_io.summarize_ledger(ledger, daily_quota=2, now=NOW).left_today == 0
