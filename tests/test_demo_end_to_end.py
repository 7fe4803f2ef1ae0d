"""`make demo` on a fresh tree, then predict, report and a dry-run submit on the run it made."""

import os
import re
import subprocess
from importlib import metadata

import numpy as np
import pandas as pd
import pytest

from comp.registry import ENTRY_POINT_GROUP
from tests.conftest import REPO_ROOT, run_comp

INSTALLED = sorted(entry.name for entry in metadata.entry_points(group=ENTRY_POINT_GROUP))


@pytest.mark.slow(minutes=10)  # the first-round captcha demo's 1,200 training steps are most of it
def test_make_demo_trains_every_competition_and_its_run_predicts_reports_and_submits(tmp_path):
    environment = {**os.environ, "COMP_CACHE_DIR": str(tmp_path / "cache")}
    demo = subprocess.run(["make", "demo"], cwd=REPO_ROOT, env=environment, capture_output=True, text=True,
                          timeout=1500)
    assert demo.returncode == 0, demo.stderr[-3000:]
    for name in INSTALLED:  # one summary row per installed competition: metric, OOF, model, submission
        assert re.search(rf"^{name}\s+\w+\s+[\d.]+\s+\S+\s+\S+$", demo.stdout, re.MULTILINE), (name, demo.stdout)
    captcha = re.search(r"^captcha\s+sequence_accuracy\s+([\d.]+)\s", demo.stdout, re.MULTILINE)
    assert captcha and float(captcha.group(1)) >= 0.8, demo.stdout  # its demo budget learns (0.875 measured)
    # the final round's few minutes read no whole formula yet; its summary shows the network's loss falling instead
    final_round = re.search(r"^  captcha-final .*\n +crnn loss ([\d.]+) -> ([\d.]+)", demo.stdout, re.MULTILINE)
    assert final_round and float(final_round.group(2)) < float(final_round.group(1)), demo.stdout
    row = re.search(r"^dogs\s+log_loss\s+([\d.]+)\s+(\S+)\s+(\S+\.csv)$", demo.stdout, re.MULTILINE)
    assert row, demo.stdout
    oof, submission_copy = float(row.group(1)), REPO_ROOT / row.group(3)
    assert 0 < oof < 0.5  # random-weight features still separate the generated cats from dogs
    submission = pd.read_csv(submission_copy)
    sample = pd.read_csv(REPO_ROOT / "demo" / "dogs" / "sample_submission.csv")
    assert list(submission.columns) == ["id", "label"] and submission["id"].tolist() == sample["id"].tolist()
    run_dir = next((REPO_ROOT / "demo" / "runs" / "dogs").iterdir())
    assert "RANDOM weights" in (run_dir / "report.html").read_text()

    predicted = run_comp("predict", "dogs", "--run", str(run_dir), "--data", str(REPO_ROOT / "demo" / "dogs"),
                         "--out", str(tmp_path / "predictions.csv"), env={"COMP_CACHE_DIR": str(tmp_path / "cache")})
    assert predicted.returncode == 0, predicted.stderr
    predictions = pd.read_csv(tmp_path / "predictions.csv")
    assert np.allclose(predictions["label"], submission["label"], atol=1e-5)  # fold models reproduce the run

    dry_run = run_comp("submit", "dogs", "--run", str(run_dir), "--dry-run", "-m", "demo run")
    assert dry_run.returncode == 0, dry_run.stderr
    assert dry_run.stdout.strip() == (f"kaggle competitions submit -c dogs-vs-cats-redux-kernels-edition "
                                      f"-f {run_dir / 'submission.csv'} -m 'demo run'")
    report = run_comp("report", str(run_dir))
    assert report.returncode == 0 and report.stdout.strip() == str(run_dir / "report.html")
