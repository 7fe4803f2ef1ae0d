"""Nothing a run holds is lost or mixed up: predict never overwrites, one writer per run, a resume only of the config
that made the run, and a run of one competition is never read as another's."""

import errno
import json
import os
import shutil
import socket

import pytest
from filelock import FileLock

from comp.io import Run
from tests.conftest import run_comp
from tests.faults.conftest import comp_in_process, one_line_error


def fake_run(path, competition):
    """A run directory of ``competition`` as far as its config.json goes."""
    path.mkdir(parents=True)
    (path / "config.json").write_text(json.dumps({"competition": competition, "config": {}}))
    return path


@pytest.mark.parametrize("run_of, asked", [("dogs", "captcha"), ("captcha", "dogs")])
def test_predict_with_a_run_of_another_competition_names_both(tmp_path, run_of, asked):
    run = fake_run(tmp_path / "run", run_of)
    line = one_line_error(comp_in_process("predict", asked, "--run", str(run), "--data", str(tmp_path)))
    assert f"{run} is a run of {run_of}, not of {asked}" in line


@pytest.mark.slow  # predicts twice with the trained demo run
def test_predict_never_replaces_an_existing_file_unless_told_to(tmp_path, dogs_demo_run):
    data = dogs_demo_run.parent / "data"
    out = tmp_path / "predictions.csv"
    out.write_text("my earlier predictions\n")
    line = one_line_error(run_comp("predict", "dogs", "--run", str(dogs_demo_run), "--data", str(data),
                                   "--out", str(out), env={"COMP_CACHE_DIR": str(dogs_demo_run.parent / "cache")}))
    assert str(out) in line and "--overwrite" in line and out.read_text() == "my earlier predictions\n"
    replaced = run_comp("predict", "dogs", "--run", str(dogs_demo_run), "--data", str(data), "--out", str(out),
                        "--overwrite", env={"COMP_CACHE_DIR": str(dogs_demo_run.parent / "cache")})
    assert replaced.returncode == 0, replaced.stderr
    assert out.read_text().startswith("id,label\n")


def test_predict_never_writes_over_a_runs_submission_even_with_overwrite(tmp_path):
    run = fake_run(tmp_path / "run", "dogs")
    (run / "submission.csv").write_text("id,label\n1,0.25\n")
    line = one_line_error(comp_in_process("predict", "dogs", "--run", str(run), "--data", str(tmp_path),
                                          "--out", str(run / "submission.csv"), "--overwrite"))
    assert "submission" in line and (run / "submission.csv").read_text() == "id,label\n1,0.25\n"


def test_a_second_writer_of_a_run_is_told_which_process_holds_it(tmp_path, dogs_demo_run):
    run_dir = tmp_path / "run"
    shutil.copytree(dogs_demo_run, run_dir)
    holder = Run.open(run_dir)
    holder.lock()  # as a `comp train --resume` in progress does
    try:
        line = one_line_error(run_comp("train", "dogs", "--resume", str(run_dir)))
    finally:
        holder.unlock()
    assert f"{run_dir} is in use by pid {os.getpid()} on {socket.gethostname()}" in line


def test_resume_refuses_a_run_whose_config_was_edited_and_writes_nothing(tmp_path, dogs_demo_run):
    run_dir = tmp_path / "run"
    shutil.copytree(dogs_demo_run, run_dir)
    saved = json.loads((run_dir / "config.json").read_text())
    saved["config"]["backbones"] = ["resnet50"]
    (run_dir / "config.json").write_text(json.dumps(saved))
    before = {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()}
    line = one_line_error(comp_in_process("train", "dogs", "--resume", str(run_dir), "--trials", "3"))
    assert str(run_dir / "config.json") in line and "edited" in line and "--trials" in line
    assert {path: path.read_bytes() for path in run_dir.rglob("*") if path.is_file()} == before


@pytest.mark.slow  # the resumed run refits its models from the fold cache
def test_resume_may_still_change_the_allowed_overrides(tmp_path, dogs_demo_run):
    run_dir = tmp_path / "run"
    shutil.copytree(dogs_demo_run, run_dir)
    resumed = run_comp("train", "dogs", "--resume", str(run_dir), "--trials", "2", "--time-budget", "5",
                       env={"COMP_CACHE_DIR": str(dogs_demo_run.parent / "cache")})
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads((run_dir / "config.json").read_text())["config"]["time_budget"] == 5


def test_a_run_on_a_read_only_disk_needs_no_lock_to_be_read(tmp_path, monkeypatch):
    run_dir = fake_run(tmp_path / "run", "dogs")

    def read_only_disk(self, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(FileLock, "acquire", read_only_disk)  # a bundled run on a Kaggle dataset, say
    run = Run.open(run_dir, "dogs")
    run.lock()
    run.unlock()
    assert sorted(path.name for path in run_dir.iterdir()) == ["config.json"]
