"""The shared report machinery: linear heads, progress lines, a plugin with no sections, headless rendering."""

import logging
import shutil
import subprocess

import numpy as np
import pytest

from comp.engine import train
from comp.io import Run, progress_bar, write_json
from comp.report import optuna_section, write_report
from comp.vision.heads import DenseHead, LogisticHead
from tests.conftest import report_images

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    features = np.vstack([rng.normal(0, 1, (60, 5)), rng.normal(1, 2, (60, 5))]) + np.arange(5) * 3
    return features.astype(np.float32), np.repeat([0, 1], 60)


def test_linear_weights_of_both_heads_reproduce_their_predictions(blobs):
    features, labels = blobs
    for head in (LogisticHead(C=0.5).fit(features, labels),
                 DenseHead(epochs=3, standardize=True, dropout=0.2, l2=1e-4, batch_size=32).fit(features, labels)):
        weights, bias = head.linear_weights()
        assert np.allclose(1 / (1 + np.exp(-(features @ weights + bias))), head.predict_proba(features), atol=1e-5)


def test_a_dense_head_with_a_hidden_layer_has_no_linear_weights_but_exports_its_predictions(blobs):
    features, labels = blobs
    head = DenseHead(epochs=2, hidden_units=4, standardize=True, dropout=0.5).fit(features, labels)
    assert head.linear_weights() is None
    exported = head.as_keras("head")  # standardisation folded in, dropout left out
    assert np.allclose(np.asarray(exported(features))[:, 0], head.predict_proba(features), atol=1e-5)


def test_progress_off_a_terminal_logs_each_step_with_rate_and_time_left(caplog):
    caplog.set_level(logging.INFO, logger="comp.progress")
    with progress_bar(total=3, desc="model trials", unit="trial", log_interval=0) as bar:
        for step in range(3):
            bar.set_postfix_str(f"best {step}")
            bar.update(1)
    lines = [record.getMessage() for record in caplog.records if record.name == "comp.progress"]
    assert len(lines) == 3 and lines[0].startswith("model trials: 1/3 trial (")
    assert all(" left)" in line and "trial/s" in line for line in lines) and lines[-1].endswith("[best 2]")


def test_the_report_of_a_plugin_without_sections_or_curves_still_builds(tmp_path, toy_competition):
    data = toy_competition.demo(tmp_path / "data", n=60, seed=0)
    config = {"data": str(data), "folds": 3, "trials": 3, "seed": 1, "runs_root": str(tmp_path / "runs"),
              "submissions_root": str(tmp_path / "submissions")}
    run = Run.create(tmp_path / "runs", "toy")
    write_json(run.file("config.json"), {"competition": "toy", "config": config})
    scores = train(toy_competition, config, run=run)
    page = write_report(run).read_text(encoding="utf-8")
    for title in ("Models and fusion candidates (out-of-fold)", "Training curves",
                  "Optuna history and parameter importances", "Blend weights", "Resolved config"):
        assert f"<h2>{title}</h2>" in page, title
    assert f'<tr class="final"><td>{scores["final"]["name"]}</td>' in page
    assert "recorded per-epoch curves" in page and "Class activation maps" not in page
    images = report_images(run.file("report.html"))
    assert len(images) == 2 * 2 + 1 and all(image is not None for image in images)  # 2 studies x 2, blend


def test_a_study_whose_trials_all_score_the_same_gets_a_note_instead_of_importances(tmp_path):
    import optuna

    run = Run.create(tmp_path / "runs", "toy")
    write_json(run.file("config.json"), {"competition": "toy", "config": {}})
    study = optuna.create_study(study_name="flat", storage=f"sqlite:///{run.file('study.db')}")
    rate = optuna.distributions.FloatDistribution(1e-4, 1e-2)
    for learning_rate in (1e-3, 2e-3, 3e-3):
        study.add_trial(optuna.trial.create_trial(params={"learning_rate": learning_rate},
                                                  distributions={"learning_rate": rate}, value=0.0))
    section = optuna_section(run, {"models": {"crnn": {"study": "flat"}}})
    assert "every completed trial scored 0.00000" in section.body and "importances undefined" in section.body


@pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"{CHROMIUM} is not installed (apt-get install chromium)")
def test_headless_chromium_renders_the_report_as_a_page_that_is_not_blank(dogs_demo_run, tmp_path):
    import cv2

    screenshot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1280,2000", f"--screenshot={screenshot}",
                    (dogs_demo_run / "report.html").as_uri()], check=True, capture_output=True, timeout=120)
    pixels = cv2.imread(str(screenshot), cv2.IMREAD_GRAYSCALE)
    assert pixels is not None and pixels.shape == (2000, 1280)
    assert (pixels < 200).mean() > 0.02 and pixels.std() > 10  # text, tables and plots drawn, not a blank page
