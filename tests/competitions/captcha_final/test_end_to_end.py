"""`comp demo`, `comp train` and `comp predict captcha-final` on tiny data: the run's answers are reproduced by predict,
and one generated-data network under --time-budget records the accuracy-against-time curve."""

import json

import pandas as pd
import pytest

from tests.conftest import TINY_CAPTCHA_CONFIG, run_comp

TINY_CONFIG = TINY_CAPTCHA_CONFIG.replace("[crnn]", "recombination_pool = 8\n[crnn]")  # the first round's tiny run


@pytest.fixture
def tiny_config(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_CONFIG)
    return path


@pytest.mark.slow  # demo of 8 large images, two tiny folds, predict: about 1.5 minutes on two CPU cores
def test_train_on_the_demo_layout_then_predict_gives_the_submissions_answers(tmp_path, tiny_config, cache_env):
    made = run_comp("demo", "captcha-final", "--out", str(tmp_path / "data"), "--n", "8", "--seed", "3",
                    env=cache_env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr[-3000:]
    data = tmp_path / "data" / "captcha-final"
    assert len((data / "labels.txt").read_text(encoding="utf-8").splitlines()) == 8
    trained = run_comp("train", "captcha-final", "--data", str(data), "--config", str(tiny_config), "--out",
                       str(tmp_path / "run"), env=cache_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    history = scores["models"]["crnn"]["histories"][0]
    assert {"greedy_sequence_accuracy", "grammar_sequence_accuracy", "elapsed_s"} <= set(history)
    submission = pd.read_csv(tmp_path / "run" / "submission.csv", keep_default_na=False, dtype=str)
    assert list(submission.columns) == ["id", "formulas", "value"] and submission["id"].tolist() == ["0", "1"]
    predicted = run_comp("predict", "captcha-final", "--run", str(tmp_path / "run"), "--data", str(data / "test"),
                         "--out", str(tmp_path / "answers" / "test.csv"), env=cache_env, cwd=tmp_path)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    answers = pd.read_csv(tmp_path / "answers" / "test.csv", keep_default_na=False, dtype=str)
    assert answers.equals(submission)
    assert len((tmp_path / "answers" / "result.txt").read_text(encoding="utf-8").split("\n")) == 3


@pytest.mark.slow  # 8 validation images and one network trained for 12 s: about a minute on two CPU cores
def test_one_generated_data_network_under_a_time_budget_reads_every_row_and_records_its_accuracy_curve(
        tmp_path, tiny_config, cache_env):
    trained = run_comp("train", "captcha-final", "--config", str(tiny_config), "--time-budget", "0.25", "--folds", "1",
                       "--out", str(tmp_path / "run"), env=cache_env, cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr[-3000:]
    model = json.loads((tmp_path / "run" / "scores.json").read_text())["models"]["crnn"]
    assert model["validation_set"]["rows"] == 8 and len(model["validation_set"]["sequence_accuracy"]) == 1
    assert len(model["fold_scores"]) == 1  # its held-out rows are all 8 validation rows
    curve = model["histories"][0]
    assert len(curve["val_sequence_accuracy"]) == len(curve["elapsed_s"]) >= 1
    assert curve["elapsed_s"][-1] >= 0.25 * 60 * 0.8  # the one network trains until the budget's training share ends
    assert "Accuracy against training time" in (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
