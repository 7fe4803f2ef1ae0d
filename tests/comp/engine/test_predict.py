"""The contract's default ``predict`` on the toy plugin (which writes none): the saved fold models and the recorded
fusion reproduce the run's own test predictions on new rows."""

import shutil
import sys

import numpy as np
import pandas as pd
import pytest

from comp.contract import predict_final
from comp.engine import train
from comp.errors import CompError
from comp.fusion import read_final
from comp.io import Run, resolve_config
from tests.conftest import TOY_PLUGIN_SOURCE, run_comp

NEW_ROWS = [17, 3, 29, 0, 8]  # test rows of the demo, in another order


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    """A trained toy run (3 folds, 2 trials) and a folder of new data holding some of its test rows, reordered."""
    sys.path.insert(0, str(TOY_PLUGIN_SOURCE))
    try:
        from comp_toy_plugin import ToyCompetition
    finally:
        sys.path.remove(str(TOY_PLUGIN_SOURCE))
    root = tmp_path_factory.mktemp("toy_predict")
    competition = ToyCompetition()
    data = competition.demo(root / "data", n=80, seed=3)
    config = resolve_config({}, flags={"data": str(data), "folds": 3, "trials": 2, "seed": 5,
                                       "runs_root": str(root / "runs"), "submissions_root": str(root / "subs")})
    run = Run.create(root / "runs", "toy")
    run.write_json("config.json", {"competition": "toy", "config": config})
    train(competition, config, run=run)
    new = root / "new"
    new.mkdir()
    shutil.copy(data / "train.csv", new / "train.csv")
    pd.read_csv(data / "test.csv").iloc[NEW_ROWS].to_csv(new / "test.csv", index=False)
    return competition, run, new


def with_final(run: Run, name: str, directory) -> Run:
    """A copy of ``run`` whose scores.json names ``name`` as the final candidate."""
    shutil.copytree(run.path, directory)
    copy = Run(directory)
    scores = copy.read_json("scores.json")
    scores["final"] = {"name": name, "score": 0.0}
    copy.write_json("scores.json", scores)
    return copy


def test_every_candidate_a_run_can_choose_is_reproduced_on_new_rows(toy_run, tmp_path):
    competition, run, new = toy_run
    scores = run.read_json("scores.json")
    names = [*scores["models"], *scores["fusion"]]
    assert {"blend", "stack", "blend+clip", "stack+clip", "logistic+clip"} <= set(names)
    dataset = competition.read_new(new, run.config()["config"])
    for name in names:
        copy = with_final(run, name, tmp_path / name)
        predicted = predict_final(competition, copy, read_final(copy), dataset)
        _, expected = run.load_predictions(name)
        assert np.abs(predicted - expected[NEW_ROWS]).max() <= 1e-9, name


def test_comp_predict_writes_the_final_candidates_predictions_of_the_new_rows(toy_run, toy_plugin_site):
    _, run, new = toy_run
    result = run_comp("predict", "toy", "--run", str(run.path), "--data", str(new),
                      env={"PYTHONPATH": str(toy_plugin_site)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert str(run.file("predictions.csv")) in result.stdout
    predictions = pd.read_csv(run.file("predictions.csv"))
    _, expected = run.load_predictions(read_final(run).name)
    assert list(predictions.columns) == ["id", "label"] and predictions["id"].tolist() == NEW_ROWS
    assert np.allclose(predictions["label"], expected[NEW_ROWS], rtol=1e-7, atol=0)  # 8 significant digits


def test_predicting_with_an_unfinished_run_says_to_resume_it(toy_run, tmp_path):
    competition, run, new = toy_run
    shutil.copytree(run.path, tmp_path / "run")
    unfinished = Run(tmp_path / "run")
    scores = unfinished.read_json("scores.json")
    del scores["final"]
    unfinished.write_json("scores.json", scores)
    with pytest.raises(CompError, match="did not finish training") as error:
        competition.predict(unfinished, new, tmp_path / "out.csv")
    assert f"comp train --resume {unfinished.path}" in str(error.value)
    assert not (tmp_path / "out.csv").exists()


def test_a_final_model_the_plugin_no_longer_builds_is_named(toy_run, tmp_path):
    competition, run, new = toy_run
    copy = with_final(run, "logistic", tmp_path / "run")
    scores = copy.read_json("scores.json")
    scores["models"]["renamed"] = scores["models"].pop("logistic")
    scores["final"]["name"] = "renamed"
    copy.write_json("scores.json", scores)
    with pytest.raises(CompError, match=r"model 'renamed' is not among the models toy builds .*logistic"):
        competition.predict(copy, new, tmp_path / "out.csv")


def test_post_processing_comp_fusion_does_not_fit_is_left_to_the_plugins_own_predict(toy_run, tmp_path):
    competition, run, new = toy_run
    copy = with_final(run, "logistic+threshold", tmp_path / "run")
    scores = copy.read_json("scores.json")
    scores["fusion"]["logistic+threshold"] = {"threshold": 0.3, "score": 0.0}
    copy.write_json("scores.json", scores)
    with pytest.raises(CompError, match=r"logistic\+threshold ends in 'threshold' post-processing.*own `predict`"):
        competition.predict(copy, new, tmp_path / "out.csv")
