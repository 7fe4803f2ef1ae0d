"""`comp train captcha` on a labelled set and on generated data, then `comp predict` on a few images."""

import json

import pandas as pd
import pytest

from competitions.captcha.demo import write_demo
from tests.conftest import TINY_CAPTCHA_CONFIG, run_comp


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CAPTCHA_CONFIG)
    return path


def test_train_on_labelled_images_then_predict_gives_the_submissions_answers(tmp_path, captcha_demo_run):
    data, run_dir = captcha_demo_run.parent / "data", captcha_demo_run  # trained on write_demo(n=8, n_test=3)
    environment = {"COMP_CACHE_DIR": str(captcha_demo_run.parent / "cache")}
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["metric"] == "sequence_accuracy" and scores["direction"] == "maximize"
    assert set(scores["fusion"]["vote"]["value_accuracy"]) == {"crnn", "vote"}
    assert len(scores["models"]["crnn"]["histories"][0]["val_loss"]) == 1
    submission = pd.read_csv(run_dir / "submission.csv", keep_default_na=False, dtype=str)
    assert list(submission.columns) == ["id", "expression", "value"] and submission["id"].tolist() == ["0", "1", "2"]

    predicted = run_comp("predict", "captcha", "--run", str(run_dir), "--data", str(data / "test"),
                         "--out", str(tmp_path / "answers" / "test.csv"), env=environment, cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    answers = pd.read_csv(tmp_path / "answers" / "test.csv", keep_default_na=False, dtype=str)
    assert answers.equals(submission)  # the saved fold models and the vote reproduce the run's answers
    lines = (tmp_path / "answers" / "result.txt").read_text().split("\n")
    assert lines[:3] == [f"{e} {v}".rstrip() for e, v in zip(answers["expression"], answers["value"])]


def test_generated_data_run_validates_each_seed_and_their_vote(tmp_path, tiny_config, cache_env):
    run_dir = tmp_path / "run"
    trained = run_comp("train", "captcha", "--config", str(tiny_config), "--time-budget", "0.25", "--out", str(run_dir),
                       env=cache_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    validation = json.loads((run_dir / "scores.json").read_text())["models"]["crnn"]["validation_set"]
    assert validation["rows"] == 8 and len(validation["sequence_accuracy"]) == 2
    assert {"vote_sequence_accuracy", "vote_value_accuracy"} <= set(validation)
    fold = json.loads(next((run_dir / "fold_cache").glob("crnn/*/*/done.json")).read_text())
    curve = fold["history"]  # the accuracy-vs-time curve: one point per epoch
    assert len(curve["val_sequence_accuracy"]) == len(curve["elapsed_s"]) == len(curve["loss"])
    assert all(0 <= accuracy <= 1 for accuracy in curve["val_sequence_accuracy"])
    assert curve["elapsed_s"] == sorted(curve["elapsed_s"])
    # under --time-budget each fit trains until its share ends (0.25 min * 0.8 / 2 folds = 6 s), however long
    # the config's one epoch of two tiny steps takes
    assert curve["elapsed_s"][-1] >= 0.25 * 60 * 0.8 / 2
    assert len(pd.read_csv(run_dir / "submission.csv")) == 8
    assert (tmp_path / "cache" / "captcha" / "validation-n8-seed7" / "labels.txt").is_file()
    assert (tmp_path / "submissions" / "captcha" / "run.csv").is_file()  # the copy lands under the working directory


@pytest.mark.slow
def test_tuning_runs_optuna_trials_over_the_crnn_and_keeps_the_best(tmp_path, tiny_config, cache_env):
    data = write_demo(tmp_path / "data", n=8, seed=1, n_test=2)
    run_dir = tmp_path / "run"
    trained = run_comp("train", "captcha", "--data", str(data), "--config", str(tiny_config), "--trials", "2",
                       "--out", str(run_dir), env=cache_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    model = json.loads((run_dir / "scores.json").read_text())["models"]["crnn"]
    assert model["trials"] == 2 and {"learning_rate", "gru_units", "conv_widths", "l2"} <= set(model["params"])
