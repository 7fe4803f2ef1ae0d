"""Submission faults through the command line: upload failures and unwritable places, each one line, nothing lost."""

import errno
import os

import pandas as pd
import pytest

from comp import CompError
from comp import io as submit
from comp.io import write_text
from tests.conftest import install_fake_kaggle, kaggle_environment, run_comp
from tests.faults.conftest import one_line_error

SUBMISSION = "id,label\n1,0.5\n"


@pytest.fixture
def submission(tmp_path):
    path = tmp_path / "submission.csv"
    path.write_text(SUBMISSION)
    return path


def upload(submission, fake_bin, **env):
    """``comp submit dogs --file`` from the test's folder (where the ledger goes, and no data/dogs to check ids)."""
    return run_comp("submit", "dogs", "--file", str(submission), "-m", "try", cwd=submission.parent,
                    env={**kaggle_environment(fake_bin), **env})


def test_missing_credentials_say_how_to_provide_them_and_nothing_is_uploaded(tmp_path, submission):
    fake_bin = tmp_path / "bin"
    install_fake_kaggle(fake_bin)
    home = tmp_path / "home"
    home.mkdir()
    result = upload(submission, fake_bin, HOME=str(home), KAGGLE_CONFIG_DIR=str(home), KAGGLE_USERNAME="",
                    KAGGLE_KEY="", KAGGLE_API_TOKEN="", XDG_CONFIG_HOME=str(home))
    line = one_line_error(result)
    assert "no Kaggle credentials" in line and "kaggle.json" in line and "KAGGLE_USERNAME" in line
    assert not (fake_bin / "argv.json").exists() and submission.read_text() == SUBMISSION


@pytest.mark.parametrize("stream", ["stdout", "stderr"])  # the kaggle CLI prints some errors on stdout
def test_a_failing_upload_names_the_exit_and_keeps_the_file(tmp_path, submission, stream):
    fake_bin = tmp_path / "bin"
    install_fake_kaggle(fake_bin, f"sys.{stream}.write('403 - Forbidden\\n'); sys.exit(1)\n")
    line = one_line_error(upload(submission, fake_bin))
    assert "kaggle upload failed (exit 1): 403 - Forbidden" in line and str(submission) in line
    assert submission.read_text() == SUBMISSION


def test_unwritable_submissions_folder_is_named(tmp_path, dogs_data, fast_config, cache_env):
    blocker = tmp_path / "submissions"
    blocker.write_text("a file where the submissions folder should be")
    config = tmp_path / "blocked.toml"
    config.write_text(fast_config.read_text().replace("[weights]", f'submissions_root = "{blocker}"\n[weights]'))
    line = one_line_error(run_comp("train", "dogs", "--data", str(dogs_data), "--config", str(config),
                                   "--out", str(tmp_path / "run"), env=cache_env))
    assert str(blocker) in line and blocker.read_text().startswith("a file")
    assert (tmp_path / "run" / "scores.json").exists()  # the trained models are kept


def test_a_full_disk_during_a_write_names_the_path_and_keeps_the_previous_file(tmp_path, monkeypatch):
    target = write_text(tmp_path / "run" / "submission.csv", SUBMISSION)

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(CompError, match=r"cannot write .*submission\.csv: No space left on device"):
        submit.save_submission(pd.DataFrame({"id": [1], "label": [0.9]}), run_dir=tmp_path / "run", competition="dogs",
                               run_id="r1", submissions_root=tmp_path / "submissions")
    assert target.read_text() == SUBMISSION
    assert [path.name for path in target.parent.iterdir()] == ["submission.csv"]
