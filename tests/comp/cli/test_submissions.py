"""`comp submit`'s guard and ledger and `comp submissions`, in process, against a fake kaggle executable on PATH
that records its arguments, remembers each upload and lists them with canned public scores."""

from __future__ import annotations

import datetime as dt
import hashlib

import pandas as pd
import pytest

from comp.cli import main
from comp.io import Run, append_to_ledger, read_ledger, write_json
from comp.report import write_report
from tests.conftest import install_fake_kaggle, kaggle_calls, kaggle_environment

SLUG = "dogs-vs-cats-redux-kernels-edition"
GOOD = "id,label\n1,0.1\n2,0.5\n3,0.9\n"
# Each upload is remembered; `competitions submissions` lists them newest first, as Kaggle does, upload k scoring
# SCORES[k] (an empty score: still being scored).
FAKE_KAGGLE = """\
import csv, datetime
state = pathlib.Path(sys.argv[0]).with_name('uploads.json')
uploads = json.loads(state.read_text()) if state.exists() else []
arguments = sys.argv[1:]
if arguments[:2] == ['competitions', 'submit']:
    uploads.append({'ref': str(100 + len(uploads)), 'fileName': pathlib.Path(arguments[arguments.index('-f') + 1]).name,
                    'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M:%S.%f'),
                    'description': arguments[arguments.index('-m') + 1], 'status': 'SubmissionStatus.COMPLETE'})
    state.write_text(json.dumps(uploads))
    print('Successfully submitted to Dogs vs. Cats Redux')
elif arguments[:2] == ['competitions', 'submissions']:
    if FAIL_LISTING:
        print('429 - Too Many Requests'); sys.exit(1)
    print('Warning: Looks like you are using an outdated API Version')
    writer = csv.writer(sys.stdout)
    writer.writerow(['ref', 'fileName', 'date', 'description', 'status', 'publicScore', 'privateScore'])
    for number, upload in reversed(list(enumerate(uploads))):
        writer.writerow([upload['ref'], upload['fileName'], upload['date'], upload['description'], upload['status'],
                         SCORES[number] if number < len(SCORES) else '', ''])
"""


def fake_kaggle(directory, scores=(), fail_listing=False, uploads=()):
    """The fake kaggle in ``directory`` with canned public scores (and earlier uploads it already knows)."""
    install_fake_kaggle(directory, FAKE_KAGGLE.replace("FAIL_LISTING", repr(fail_listing)).replace(
        "SCORES", repr(list(scores))))
    if uploads:
        write_json(directory / "uploads.json", list(uploads))
    return directory


@pytest.fixture
def kaggle(tmp_path, monkeypatch):
    """The fake kaggle first on PATH with credentials, and the test's folder as the working directory."""
    fake_bin = fake_kaggle(tmp_path / "bin", scores=["0.071", "0.065"])
    for name, value in kaggle_environment(fake_bin).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    return fake_bin


@pytest.fixture
def data(tmp_path):
    """A dogs data folder holding only the sample submission (ids 1, 2, 3)."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "sample_submission.csv").write_text("id,label\n1,0.5\n2,0.5\n3,0.5\n")
    return tmp_path / "data"


def submission(tmp_path, text, name="submission.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def comp(*arguments):
    return main(list(arguments))


def uploads(fake_bin):
    return [call for call in kaggle_calls(fake_bin) if call[:2] == ["competitions", "submit"]]


def error_line(capsys):
    """The one ``comp: error:`` line, last on stderr."""
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert lines[-1].startswith("comp: error: ") and sum(line.startswith("comp: error:") for line in lines) == 1
    return lines[-1]


BAD_FILES = {
    "nan": ("id,label\n1,0.1\n2,nan\n3,0.9\n", "column 'label' has a non-finite value 'nan' at id 2 (row 2)"),
    "inf": ("id,label\n1,0.1\n2,0.5\n3,inf\n", "column 'label' has a non-finite value 'inf' at id 3 (row 3)"),
    "above-one": ("id,label\n1,0.1\n2,1.5\n3,0.9\n", "value 1.5 at id 2 (row 2), outside the range [0, 1]"),
    "empty-cell": ("id,label\n1,0.1\n2,\n3,0.9\n", "column 'label' has a non-finite value '' at id 2 (row 2)"),
    "header": ("id,prob\n1,0.1\n2,0.5\n3,0.9\n", "expected columns ['id', 'label'], got ['id', 'prob']"),
    "wrong-ids": ("id,label\n1,0.1\n2,0.5\n4,0.9\n", "missing id 3, extra id 4 (row 3)"),
    "order": ("id,label\n2,0.1\n1,0.5\n3,0.9\n", "different order from the sample submission: row 1 has id 2"),
    "row-count": ("id,label\n1,0.1\n2,0.5\n", "submission has 2 rows but the sample submission has 3"),
    "duplicate-ids": ("id,label\n1,0.1\n2,0.5\n2,0.9\n", "duplicate id 2 (row 3)"),
}


@pytest.mark.parametrize("kind", BAD_FILES)
def test_the_guard_refuses_each_bad_file_in_one_line_and_uploads_nothing(kind, tmp_path, kaggle, data, capsys):
    text, reason = BAD_FILES[kind]
    path = submission(tmp_path, text)
    assert comp("submit", "dogs", "--file", str(path), "--data", str(data), "-m", "try") == 2
    line = error_line(capsys)
    assert f"{path} would be rejected or mis-scored: " in line and reason in line
    assert line.endswith("nothing uploaded (--force uploads it anyway)")
    assert uploads(kaggle) == [] and not (tmp_path / "submissions").exists()


def test_the_issues_nan_file_is_refused_even_in_a_dry_run_without_the_data(tmp_path, kaggle, capsys):
    path = submission(tmp_path, "id,label\n1,nan\n")
    assert comp("submit", "dogs", "--file", str(path), "--dry-run") == 2
    assert "non-finite value 'nan' at id 1 (row 1)" in error_line(capsys)
    assert kaggle_calls(kaggle) == []


def test_a_good_file_is_uploaded_and_recorded_in_the_ledger(tmp_path, kaggle, data, capsys):
    path = submission(tmp_path, GOOD)
    assert comp("submit", "dogs", "--file", str(path), "--data", str(data), "-m", "hand-made") == 0
    assert uploads(kaggle) == [["competitions", "submit", "-c", SLUG, "-f", str(path), "-m", "hand-made"]]
    [row] = read_ledger(tmp_path / "submissions" / "dogs" / "ledger.csv").to_dict("records")
    assert row["sha256"] == hashlib.sha256(GOOD.encode()).hexdigest() and row["file"] == str(path)
    assert (row["run_id"], row["cv_score"], row["message"], row["forced"]) == ("", "", "hand-made", "False")
    assert (row["metric"], row["direction"], row["public_score"], row["kaggle_ref"]) == (
        "log_loss", "minimize", "0.071", "100")
    assert "4 of 5 submissions left today (UTC)" in capsys.readouterr().out


def test_force_uploads_a_failing_file_says_so_and_marks_the_ledger_row(tmp_path, kaggle, data, capsys):
    path = submission(tmp_path, BAD_FILES["above-one"][0])
    assert comp("submit", "dogs", "--file", str(path), "--data", str(data), "-m", "forced", "--force") == 0
    assert "--force: uploading" in capsys.readouterr().out and len(uploads(kaggle)) == 1
    assert read_ledger(tmp_path / "submissions" / "dogs" / "ledger.csv")["forced"].tolist() == ["True"]


def test_a_file_identical_to_an_earlier_submission_is_refused_unless_forced(tmp_path, kaggle, data, capsys):
    first = submission(tmp_path, GOOD, "first.csv")
    again = submission(tmp_path, GOOD, "renamed copy.csv")
    assert comp("submit", "dogs", "--file", str(first), "--data", str(data), "-m", "one") == 0
    capsys.readouterr()
    assert comp("submit", "dogs", "--file", str(again), "--data", str(data), "-m", "two") == 2
    line = error_line(capsys)
    assert f"is identical (sha256 {hashlib.sha256(GOOD.encode()).hexdigest()[:12]})" in line and "'one'" in line
    assert line.endswith("nothing uploaded (--force submits it again)") and len(uploads(kaggle)) == 1
    assert comp("submit", "dogs", "--file", str(again), "--data", str(data), "-m", "two", "--force") == 0
    assert "--force: " in capsys.readouterr().out and len(uploads(kaggle)) == 2


def finished_run(root, score, text):
    """A finished dogs run (log loss ``score``) whose submission.csv holds ``text``."""
    run = Run.create(root / "runs", "dogs")
    write_json(run.file("config.json"), {"competition": "dogs", "config": {}})
    write_json(run.file("scores.json"), {"metric": "log_loss", "direction": "minimize",
                                         "final": {"name": "blend+clip", "score": score}})
    run.file("submission.csv").write_text(text)
    return run


def test_two_run_submissions_make_two_ledger_rows_with_their_scores_and_the_report_shows_them(tmp_path, kaggle,
                                                                                              capsys):
    older = finished_run(tmp_path, 0.0625, GOOD)
    newer = finished_run(tmp_path, 0.0604, GOOD.replace("0.9", "0.95"))
    assert comp("submit", "dogs", "--run", str(older.path)) == 0
    assert comp("submit", "dogs", "--run", str(newer.path)) == 0
    assert "3 of 5 submissions left today (UTC)" in capsys.readouterr().out.splitlines()[-1]
    ledger = read_ledger(tmp_path / "submissions" / "dogs" / "ledger.csv")
    assert ledger["run_id"].tolist() == [older.id, newer.id]
    assert ledger["cv_score"].tolist() == ["0.0625", "0.0604"]
    assert ledger["final_candidate"].tolist() == ["blend+clip", "blend+clip"]
    assert ledger["message"].tolist() == [f"comp {older.id}: blend+clip OOF 0.06250",
                                          f"comp {newer.id}: blend+clip OOF 0.06040"]
    assert ledger["public_score"].tolist() == ["0.071", "0.065"] and ledger["kaggle_ref"].tolist() == ["100", "101"]
    assert ledger["sha256"].tolist() == [hashlib.sha256(run.file("submission.csv").read_bytes()).hexdigest()
                                         for run in (older, newer)]
    times = pd.to_datetime(ledger["time"], utc=True)
    assert (abs(times - pd.Timestamp.now(tz="UTC")) < pd.Timedelta(minutes=5)).all()
    page = write_report(newer).read_text(encoding="utf-8")
    assert "Submissions (CV vs public leaderboard)" in page and f"comp {newer.id}: blend+clip" in page
    assert "+0.00460" in page and f"comp {older.id}" not in page  # 0.065 - 0.0604: this run's row only


def test_a_failed_score_fetch_is_one_logged_line_and_the_submission_stands(tmp_path, monkeypatch, data, capsys):
    fake_bin = fake_kaggle(tmp_path / "bin", fail_listing=True)
    for name, value in kaggle_environment(fake_bin).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    path = submission(tmp_path, GOOD)
    assert comp("submit", "dogs", "--file", str(path), "--data", str(data), "-m", "x") == 0
    captured = capsys.readouterr()
    warnings = [line for line in captured.err.splitlines() if "public scores not fetched" in line]
    assert len(warnings) == 1 and "429 - Too Many Requests" in warnings[0]
    assert f"submitted {path}" in captured.out
    assert read_ledger(tmp_path / "submissions" / "dogs" / "ledger.csv")["public_score"].tolist() == [""]


def test_a_failed_upload_adds_no_ledger_row(tmp_path, monkeypatch, data, capsys):
    fake_bin = tmp_path / "bin"
    install_fake_kaggle(fake_bin, "print('400 - Submission limit reached'); sys.exit(1)\n")
    for name, value in kaggle_environment(fake_bin).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert comp("submit", "dogs", "--file", str(submission(tmp_path, GOOD)), "--data", str(data)) == 2
    assert "400 - Submission limit reached" in error_line(capsys)
    assert not (tmp_path / "submissions" / "dogs" / "ledger.csv").exists()


def test_submissions_prints_gap_correlation_and_quota_of_five_submissions(tmp_path, monkeypatch, capsys):
    today = dt.datetime.now(dt.timezone.utc).date()
    days = [today - dt.timedelta(days=2), today - dt.timedelta(days=2), today - dt.timedelta(days=1), today, today]
    cv = ["0.30", "0.25", "0.20", "0.15", "0.10"]
    public = ["0.32", "0.26", "0.23", "0.16", ""]  # the fifth is scored by Kaggle since the last look
    ledger = tmp_path / "submissions" / "dogs" / "ledger.csv"
    for number in range(5):
        append_to_ledger(ledger, {"time": f"{days[number]}T00:00:0{number}Z", "run_id": f"run{number}",
                                  "sha256": f"{number:064d}", "metric": "log_loss", "direction": "minimize",
                                  "cv_score": cv[number], "final_candidate": "blend", "message": f"try {number}",
                                  "forced": False, "kaggle_ref": str(100 + number) if number < 4 else "",
                                  "public_score": public[number]})
    fake_bin = fake_kaggle(tmp_path / "bin", scores=["0.32", "0.26", "0.23", "0.16", "0.13"], uploads=[
        {"ref": str(100 + number), "fileName": "s.csv", "date": f"{days[number]} 00:00:0{number + 2}",
         "description": f"try {number}", "status": "complete"} for number in range(5)])
    for name, value in kaggle_environment(fake_bin).items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(tmp_path)
    assert comp("submissions", "dogs") == 0
    lines = capsys.readouterr().out.splitlines()
    assert kaggle_calls(fake_bin) == [["competitions", "submissions", "-c", SLUG, "--csv"]]
    # gaps LB - CV (log loss: lower is better, so positive = the LB is worse): .02 .01 .03 .01 .03, mean .02;
    # Pearson by hand: CV deviations .10 .05 0 -.05 -.10, LB (mean .22) .10 .04 .01 -.06 -.09:
    # r = .024 / sqrt(.025 * .0234) = 0.992
    assert [line.split()[6] for line in lines[1:6]] == ["+0.02000", "+0.01000", "+0.03000", "+0.01000", "+0.03000"]
    assert lines[5].split()[5] == "0.13000"
    assert lines[6] == ("CV log_loss vs public LB over 5 submission(s): Pearson r +0.992; mean gap +0.02000 "
                        "(positive: the public LB is worse than CV)")
    assert lines[7] == "submissions left today (UTC): 3 of 5"
    assert read_ledger(ledger)["public_score"].tolist()[-1] == "0.13"
