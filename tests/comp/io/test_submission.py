"""Tests for comp.submit: validation rules, atomic saving, and the kaggle CLI calls (against a fake CLI)."""

from __future__ import annotations

import io
import json
import re
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comp import io as submit
from comp.errors import CompError
from tests.conftest import install_fake_kaggle, kaggle_environment

COLUMNS = ["id", "label"]


def frame(ids=(1, 2, 3), labels=(0.1, 0.5, 0.9), columns=COLUMNS) -> pd.DataFrame:
    return pd.DataFrame({columns[0]: list(ids), columns[1]: list(labels)})


def validate(submission: pd.DataFrame, sample: pd.DataFrame | None = None) -> None:
    submit.validate_submission(
        submission, columns=COLUMNS, id_column="id", sample=sample, value_range=(0.0, 1.0), value_columns=["label"]
    )


# --- validation -----------------------------------------------------------------------------------


def test_valid_frame_passes():
    validate(frame(), sample=frame(labels=(0.5, 0.5, 0.5)))
    validate(frame(), sample=None)


def test_ids_compared_by_text_so_int_and_str_ids_match():
    validate(frame(ids=("1", "2", "3")), sample=frame())


@pytest.mark.parametrize(
    ("submission", "sample", "message"),
    [
        (frame(columns=["id", "prob"]), None, "expected columns ['id', 'label'], got ['id', 'prob']"),
        (frame()[["label", "id"]], None, "expected columns ['id', 'label'], got ['label', 'id']"),
        (frame(ids=(1, 2), labels=(0.1, 0.2)), frame(), "2 rows but the sample submission has 3"),
        (frame(ids=(1, 2, 4)), frame(), "ids differ from the sample submission: missing id 3, extra id 4"),
        (frame(ids=(1, 2, 3)), frame(ids=(1, 2, 2)), "ids differ from the sample submission: extra id 3"),
        (frame(ids=(1, 2, 2)), frame(ids=(1, 2, 2)), "duplicate id 2"),
        (frame(ids=(2, 1, 3)), frame(), "row 1 has id 2, the sample has 1"),
        (frame(ids=(1, 2, 2)), frame(), "duplicate id 2"),
        (frame(labels=(0.1, np.nan, 0.9)), frame(), "column 'label' has a non-finite value nan at id 2"),
        (frame(labels=(0.1, 0.5, np.inf)), None, "column 'label' has a non-finite value inf at id 3"),
        (frame(labels=(0.1, "x", 0.5)), None, "non-finite value 'x' at id 2"),
        (frame(labels=(0.1, 1.5, -0.2)), frame(), "value 1.5 at id 2 (row 2), outside the range [0, 1]"),
    ],
    ids=[
        "header", "column-order", "row-count", "missing-and-extra-id", "extra-id", "duplicate-before-sample",
        "row-order", "duplicate", "nan", "inf", "non-numeric", "out-of-range",
    ],
)
def test_each_rule_rejects_with_its_message(submission, sample, message):
    with pytest.raises(CompError) as raised:
        validate(submission, sample)
    assert message in str(raised.value)
    assert "\n" not in str(raised.value)


def test_without_value_columns_only_structure_is_checked():
    submit.validate_submission(frame(labels=(np.nan, 2.0, -1.0)), columns=COLUMNS, id_column="id")


# --- saving ---------------------------------------------------------------------------------------


def test_save_writes_run_file_and_copy_with_identical_content(tmp_path):
    submission = frame(labels=(0.005, 0.995, 1 / 3))
    run_file, copy = submit.save_submission(
        submission, run_dir=tmp_path / "run", competition="dogs", run_id="r1", submissions_root=tmp_path / "subs"
    )
    assert run_file == tmp_path / "run" / "submission.csv"
    assert copy == tmp_path / "subs" / "dogs" / "r1.csv"
    assert run_file.read_bytes() == copy.read_bytes()
    written = pd.read_csv(copy)
    assert list(written.columns) == COLUMNS
    np.testing.assert_allclose(written["label"], submission["label"], rtol=1e-7)
    assert not [path for path in (tmp_path / "subs" / "dogs").iterdir() if path.name.startswith(".")]


def test_second_save_never_overwrites_the_copy(tmp_path):
    arguments = dict(run_dir=tmp_path / "run", competition="dogs", run_id="r1", submissions_root=tmp_path / "subs")
    _, first = submit.save_submission(frame(labels=(0.1, 0.2, 0.3)), **arguments)
    first_bytes = first.read_bytes()
    _, second = submit.save_submission(frame(labels=(0.7, 0.8, 0.9)), **arguments)
    _, third = submit.save_submission(frame(labels=(0.4, 0.4, 0.4)), **arguments)
    assert (second.name, third.name) == ("r1-2.csv", "r1-3.csv")
    assert first.read_bytes() == first_bytes
    assert second.read_bytes() != first_bytes


# --- kaggle CLI -----------------------------------------------------------------------------------


@pytest.fixture
def kaggle_env(tmp_path, monkeypatch):
    """PATH with only a fake-CLI directory and the system dirs; credentials from the environment."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name, value in kaggle_environment(fake_bin).items():
        monkeypatch.setenv(name, value)
    return fake_bin


@pytest.fixture
def submission_file(tmp_path) -> Path:
    path = tmp_path / "my submission.csv"
    path.write_bytes(b"id,label\n1,0.5\n")
    return path


def test_submit_command():
    assert submit.kaggle_submit_command("dogs-vs-cats-redux-kernels-edition", Path("s.csv"), "first") == [
        "kaggle", "competitions", "submit", "-c", "dogs-vs-cats-redux-kernels-edition", "-f", "s.csv", "-m", "first",
    ]


def test_upload_runs_kaggle_with_exact_arguments(kaggle_env, submission_file, capfd):
    install_fake_kaggle(kaggle_env, "print('Successfully submitted')\n")
    command = submit.upload_submission("dogs", submission_file, "try 1")
    recorded = json.loads((kaggle_env / "argv.json").read_text())
    assert recorded == ["competitions", "submit", "-c", "dogs", "-f", str(submission_file), "-m", "try 1"]
    assert command == f"kaggle competitions submit -c dogs -f '{submission_file}' -m 'try 1'"
    assert "Successfully submitted" in capfd.readouterr().out


def test_failed_upload_names_exit_and_leaves_file_untouched(kaggle_env, submission_file):
    install_fake_kaggle(kaggle_env, "print('uploading'); sys.stderr.write('403 - Forbidden\\n'); sys.exit(1)\n")
    before = submission_file.read_bytes()
    with pytest.raises(CompError) as raised:
        submit.upload_submission("dogs", submission_file, "try 1")
    assert str(raised.value) == (
        f"kaggle upload failed (exit 1): 403 - Forbidden; the submission file {submission_file} is unchanged"
    )
    assert submission_file.read_bytes() == before


def test_missing_cli_is_reported(kaggle_env, submission_file):
    assert shutil.which("kaggle") is None
    with pytest.raises(CompError, match="the kaggle CLI is not installed or not on PATH; install it with"):
        submit.upload_submission("dogs", submission_file, "try 1")


def test_missing_credentials_are_reported(kaggle_env, submission_file, tmp_path, monkeypatch):
    install_fake_kaggle(kaggle_env, "")
    empty_home = tmp_path / "home"
    empty_home.mkdir()
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(empty_home))
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(empty_home))
    with pytest.raises(CompError, match=r"no Kaggle credentials: .*kaggle\.json .*KAGGLE_USERNAME and KAGGLE_KEY"):
        submit.upload_submission("dogs", submission_file, "try 1")
    assert not (kaggle_env / "argv.json").exists()

    (empty_home / "kaggle.json").write_text('{"username": "someone", "key": "secret"}')
    submit.check_kaggle_credentials()
    (empty_home / "kaggle.json").unlink()
    monkeypatch.setenv("KAGGLE_API_TOKEN", "token")
    submit.check_kaggle_credentials()


def test_dry_run_does_not_call_kaggle(kaggle_env, submission_file, monkeypatch):
    install_fake_kaggle(kaggle_env, "")
    monkeypatch.delenv("KAGGLE_USERNAME")
    command = submit.upload_submission("dogs", submission_file, "it's mine", dry_run=True)
    assert command.startswith("kaggle competitions submit -c dogs -f ")
    assert command.endswith("-m 'it'\"'\"'s mine'")
    assert not (kaggle_env / "argv.json").exists()


def test_upload_of_missing_file_is_rejected(kaggle_env, tmp_path):
    with pytest.raises(CompError, match="does not exist"):
        submit.upload_submission("dogs", tmp_path / "nope.csv", "x", dry_run=True)


# --- download -------------------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def fake_download_body(archive: bytes) -> str:
    """Body of a fake kaggle that writes ``archive`` as ``<slug>.zip`` into the ``-p`` directory."""
    return (
        "args = sys.argv[1:]\n"
        "slug, out = args[args.index('-c') + 1], pathlib.Path(args[args.index('-p') + 1])\n"
        f"(out / (slug + '.zip')).write_bytes({archive!r})\n"
    )


def test_download_unpacks_nested_zips(kaggle_env, tmp_path):
    outer = zip_bytes({
        "train.zip": zip_bytes({"train/cat.1.jpg": b"cat", "train/dog.1.jpg": b"dog"}),
        "test.zip": zip_bytes({"test/1.jpg": b"one"}),
        "sample_submission.csv": b"id,label\n1,0.5\n",
    })
    install_fake_kaggle(kaggle_env, fake_download_body(outer))
    out = tmp_path / "data"
    assert submit.download_competition("dogs-vs-cats-redux-kernels-edition", out) == out
    assert json.loads((kaggle_env / "argv.json").read_text()) == [
        "competitions", "download", "-c", "dogs-vs-cats-redux-kernels-edition", "-p", str(out),
    ]
    assert (out / "train" / "cat.1.jpg").read_bytes() == b"cat"
    assert (out / "train" / "dog.1.jpg").read_bytes() == b"dog"
    assert (out / "test" / "1.jpg").read_bytes() == b"one"
    assert (out / "sample_submission.csv").is_file()
    assert not list(out.rglob("*.zip"))


def test_download_rejects_zip_slip(kaggle_env, tmp_path):
    install_fake_kaggle(kaggle_env, fake_download_body(zip_bytes({"ok.txt": b"x", "../evil": b"boom"})))
    out = tmp_path / "data"
    with pytest.raises(CompError, match=r"'\.\./evil', which would be written outside"):
        submit.download_competition("slug", out)
    assert not (tmp_path / "evil").exists()


def test_failed_download_mentions_the_rules(kaggle_env, tmp_path):
    install_fake_kaggle(kaggle_env, "print('403 - Forbidden'); sys.exit(1)\n")
    with pytest.raises(CompError, match=r"exit 1\): 403 - Forbidden; .*accept the rules.*competitions/slug/rules"):
        submit.download_competition("slug", tmp_path / "data")


# --- the multi-class format and the generic file guard ----------------------------------------------


def classes(rows) -> pd.DataFrame:
    return pd.DataFrame([{"id": number + 1, "cat": cat, "dog": dog, "bird": bird}
                         for number, (cat, dog, bird) in enumerate(rows)])


def validate_classes(submission: pd.DataFrame) -> None:
    submit.validate_submission(submission, columns=["id", "cat", "dog", "bird"], id_column="id",
                               class_columns=["cat", "dog", "bird"])


def test_class_probabilities_summing_to_one_within_the_tolerance_pass():
    validate_classes(classes([(0.2, 0.3, 0.5), (1.0, 0.0, 0.0), (0.3333, 0.3333, 0.3339), (0.5, 0.5, 0.0009)]))


@pytest.mark.parametrize(("rows", "message"), [
    ([(0.2, 0.3, 0.5), (0.2, 0.3, 0.4)],
     "class probabilities (cat, dog, bird) sum to 0.9 at id 2 (row 2); each row must sum to 1 within 0.001"),
    ([(0.2, 0.3, 0.5), (1.2, -0.2, 0.0)], "column 'cat' has value 1.2 at id 2 (row 2), outside the range [0, 1]"),
    ([(0.2, np.nan, 0.5)], "column 'dog' has a non-finite value nan at id 1 (row 1)"),
], ids=["sum", "outside", "nan"])
def test_class_probabilities_name_the_first_bad_row(rows, message):
    with pytest.raises(CompError) as raised:
        validate_classes(classes(rows))
    assert message in str(raised.value)


def test_a_file_is_judged_against_the_sample_submission_wherever_it_has_numbers(tmp_path):
    sample = tmp_path / "sample_submission.csv"
    sample.write_text("image,score,note\na01,0.5,x\na02,0.5,y\n")
    good = tmp_path / "good.csv"
    good.write_text("image,score,note\na01,3.5,anything\na02,-1,\n")
    submit.check_submission_file(good, sample_path=sample)
    for text, message in [("image,score,note\na01,0.5,x\na2,0.5,y\n", "missing image a02, extra image a2 (row 2)"),
                          ("image,score,note\na01,inf,x\na02,0.5,y\n", "column 'score' has a non-finite value 'inf'"),
                          ("image,score\na01,0.5\na02,0.5\n", "expected columns ['image', 'score', 'note']")]:
        bad = tmp_path / "bad.csv"
        bad.write_text(text)
        with pytest.raises(CompError, match=re.escape(message)):
            submit.check_submission_file(bad, sample_path=sample)


def test_without_a_sample_a_file_is_checked_for_duplicate_ids_only(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("id,label\n1,nan\n")
    submit.check_submission_file(path, sample_path=tmp_path / "absent.csv")
    path.write_text("id,label\n1,0.5\n1,0.5\n")
    with pytest.raises(CompError, match=r"duplicate id 1 \(row 2\)"):
        submit.check_submission_file(path)
