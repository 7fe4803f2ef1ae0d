"""`comp demo images --task T --train` trains every task type end to end with no code: a valid submission in the
sample's format, predictions of the task's shape, and the task's own report sections."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_comp


def finished_run(out: Path) -> Path:
    return next((out / "runs" / "images").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("task, metric, postprocessing", [
    ("multiclass", "multi_logloss", "temperature"),
    ("multilabel", "f1_samples", "thresholds"),
    ("regression", "rmse", None),
])
def test_every_task_type_trains_end_to_end_from_generated_data(tmp_path, cache_env, task, metric, postprocessing):
    result = run_comp("demo", "images", "--out", str(tmp_path), "--train", "--task", task, "--n", "48",
                      env=cache_env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"metric {metric}" in result.stderr  # the inferred task and metric are printed at the start
    run = finished_run(tmp_path)
    scores = json.loads((run / "scores.json").read_text())
    assert scores["metric"].startswith(metric) and scores["task"]["kind"] == task
    candidates = {**scores["models"], **scores["fusion"]}
    assert scores["final"]["name"] in candidates
    assert any(name.endswith(f"+{postprocessing}") for name in candidates) == (postprocessing is not None)
    sample = pd.read_csv(tmp_path / "images" / "sample_submission.csv", dtype=str)
    submission = pd.read_csv(run / "submission.csv", dtype=str, keep_default_na=False)
    assert list(submission.columns) == list(sample.columns) and submission["id"].tolist() == sample["id"].tolist()
    oof = np.load(run / "oof" / f"{scores['final']['name']}.npy")
    n_train = len(pd.read_csv(tmp_path / "images" / "train.csv"))
    assert oof.shape == ((n_train, 4) if task != "regression" else (n_train,))
    if task == "multiclass":
        probabilities = submission[sample.columns[1:]].astype(float).to_numpy()
        assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-3)
    elif task == "multilabel":
        assert set(" ".join(submission["tags"]).split()) <= {"circle", "cross", "square", "triangle"}
    else:
        assert np.isfinite(submission["radius"].astype(float)).all()
    predicted = run_comp("predict", "images", "--run", str(run), "--data", str(tmp_path / "images"), "--out",
                         str(tmp_path / "predicted.csv"), env=cache_env)
    assert predicted.returncode == 0, predicted.stderr[-3000:]
    again = pd.read_csv(tmp_path / "predicted.csv", dtype=str, keep_default_na=False).set_index("id")
    own = submission.set_index("id").loc[again.index]  # comp predict lists the test folder in file order
    assert list(again.columns) == list(own.columns)
    if task == "multilabel":
        assert again["tags"].tolist() == own["tags"].tolist()
    else:
        assert np.allclose(again.astype(float).to_numpy(), own.astype(float).to_numpy(), atol=1e-6)
    report = (run / "report.html").read_text()
    expected = {"multiclass": "Confusion matrix", "multilabel": "Per-label scores", "regression": "Predicted against"}
    assert expected[task] in report and "most confidently wrong" in report
