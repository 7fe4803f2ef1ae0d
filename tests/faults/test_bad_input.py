"""Bad files and bad values: each named in one line on stderr, with a non-zero exit, or dropped and counted."""

import numpy as np
import pandas as pd
import pytest

from comp import CompError
from comp.io import Run
from comp.registry import list_competitions
from competitions.captcha.demo import write_demo as write_captcha_demo
from competitions.dogs.plugin import DogsCompetition
from competitions.dogs.reader import read_dataset
from tests.conftest import run_comp
from tests.faults.conftest import corrupt_images, one_line_error


def test_undecodable_training_images_are_dropped_named_and_counted(tmp_path, dogs_data, fast_config, cache_env):
    bad = corrupt_images(dogs_data / "train", ["cat.90.jpg", "dog.91.jpg", "cat.92.jpg"],
                         dogs_data / "train" / "cat.0.jpg")
    result = run_comp("train", "dogs", "--data", str(dogs_data), "--config", str(fast_config),
                      "--out", str(tmp_path / "run"), env=cache_env)
    assert result.returncode == 0, result.stderr
    assert "dropped 3 unreadable training file(s)" in result.stderr
    log = (tmp_path / "run" / "log.txt").read_text()
    assert all(str(path) in log for path in bad)
    folds = Run(tmp_path / "run").read_json("folds.json")
    assert len(folds["ids"]) == 24 and "cat.90" not in folds["ids"]


def test_undecodable_test_images_stop_the_run_before_training_unless_allowed(tmp_path, dogs_data, fast_config,
                                                                             cache_env):
    bad = corrupt_images(dogs_data / "test", ["90.jpg", "91.jpg", "92.jpg"], dogs_data / "test" / "1.jpg")
    sample = pd.read_csv(dogs_data / "sample_submission.csv")
    pd.concat([sample, pd.DataFrame({"id": [90, 91, 92], "label": 0.5})]).to_csv(
        dogs_data / "sample_submission.csv", index=False)
    stopped = run_comp("train", "dogs", "--data", str(dogs_data), "--config", str(fast_config),
                       "--out", str(tmp_path / "stopped"), env=cache_env)
    line = one_line_error(stopped)
    assert "3 test image(s) cannot be decoded" in line and f"in {dogs_data / 'test'}/" in line
    assert all(path.name in line for path in bad)
    assert "--allow-bad-test" in line
    assert not (tmp_path / "stopped" / "scores.json").exists()  # nothing was trained
    allowed = run_comp("train", "dogs", "--data", str(dogs_data), "--config", str(fast_config),
                       "--out", str(tmp_path / "allowed"), "--allow-bad-test", env=cache_env)
    assert allowed.returncode == 0, allowed.stderr
    submission = pd.read_csv(tmp_path / "allowed" / "submission.csv")
    assert len(submission) == 9 and submission["label"].between(0, 1).all()


def test_training_file_without_a_label_is_one_line(tmp_path, dogs_data):
    (dogs_data / "train" / "bird.3.jpg").write_bytes((dogs_data / "train" / "cat.0.jpg").read_bytes())
    line = one_line_error(run_comp("train", "dogs", "--data", str(dogs_data)))
    assert "bird.3.jpg has no label" in line


@pytest.mark.parametrize("make_layout, expected", [
    (lambda root: root / "absent", "does not exist"),
    (lambda root: (root / "empty").mkdir() or root / "empty", "has no train/ folder"),
    (lambda root: (root / "only_test" / "test").mkdir(parents=True) or root / "only_test", "has no train/ folder"),
])
def test_wrong_data_directories_say_the_expected_layout(tmp_path, make_layout, expected):
    line = one_line_error(run_comp("train", "dogs", "--data", str(make_layout(tmp_path))))
    assert expected in line and "expected DIR/train/{cat,dog}.N.jpg" in line


@pytest.mark.parametrize("ids, header, expected", [
    ([1, 2, 3, 4, 5, 6, 99], ["id", "label"], "id 99 has no image in test/"),
    ([1, 2, 2, 3, 4, 5, 6], ["id", "label"], "id 2 appears more than once"),
    ([1, 2, 3, 4, 5, 6], ["id", "prob"], "['id', 'prob']"),
])
def test_bad_sample_submission_names_the_first_offending_id_or_column(dogs_data, ids, header, expected):
    pd.DataFrame({header[0]: ids, header[1]: 0.5}).to_csv(dogs_data / "sample_submission.csv", index=False)
    assert expected in one_line_error(run_comp("train", "dogs", "--data", str(dogs_data)))


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_predictions_with_nan_or_inf_are_refused_and_nothing_is_written(tmp_path, dogs_data, bad_value):
    dataset = read_dataset(dogs_data)
    prediction = np.full(len(dataset.test), 0.5)
    prediction[2] = bad_value
    run = Run.create(tmp_path / "runs", "dogs")
    with pytest.raises(CompError, match="non-finite"):
        DogsCompetition().write_submission(dataset, prediction, run=run, submissions_root=tmp_path / "subs")
    assert not run.file("submission.csv").exists() and not (tmp_path / "subs").exists()


def test_unwritable_run_directory_is_named(tmp_path, dogs_data):
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the run directory should go")
    line = one_line_error(run_comp("train", "dogs", "--data", str(dogs_data), "--out", str(blocker / "run")))
    assert str(blocker / "run") in line


def test_unknown_backbone_lists_the_valid_ones(tmp_path, dogs_data):
    line = one_line_error(run_comp("train", "dogs", "--data", str(dogs_data), "--backbones", "resnet5"))
    assert "unknown backbone 'resnet5'" in line and "resnet50" in line and "squeezenet1_1" in line


@pytest.mark.parametrize("arguments, expected", [
    (["train", "dogz", "--data", "."], ["unknown competition 'dogz'", ", ".join(list_competitions())]),
    (["train", "dogs", "--data", ".", "--fold", "3"], ["unrecognized arguments: --fold", "--folds", "--trials"]),
])
def test_unknown_competition_or_flag_lists_the_valid_choices(arguments, expected):
    line = one_line_error(run_comp(*arguments))
    assert all(text in line for text in expected), line


def test_debug_shows_the_traceback(dogs_data):
    result = run_comp("--debug", "train", "dogs", "--data", str(dogs_data / "absent"))
    assert result.returncode != 0 and "Traceback" in result.stderr and "CompError" in result.stderr


def test_kaggle_missing_is_one_line_and_keeps_the_submission(tmp_path):
    submission = tmp_path / "submission.csv"
    submission.write_text("id,label\n1,0.5\n")
    result = run_comp("submit", "dogs", "--file", str(submission), "-m", "x",
                      env={"PATH": "/usr/bin:/bin", "KAGGLE_USERNAME": "u", "KAGGLE_KEY": "k"})
    assert "kaggle CLI is not installed" in one_line_error(result)
    assert submission.read_text() == "id,label\n1,0.5\n"


@pytest.mark.parametrize("edit, expected", [
    (lambda lines: lines[:3], "labels.txt line 4 is missing"),
    (lambda lines: [lines[0], lines[1].split()[0] + "\n", *lines[2:]], "labels.txt line 2"),
])
def test_captcha_labels_file_faults_name_the_line(tmp_path, edit, expected):
    data = write_captcha_demo(tmp_path / "captcha", n=4, seed=0)
    labels = data / "labels.txt"
    labels.write_text("".join(edit(labels.read_text().splitlines(True))))
    line = one_line_error(run_comp("train", "captcha", "--data", str(data), "--out", str(tmp_path / "run"),
                                   cwd=tmp_path))
    assert expected in line and str(labels) in line
