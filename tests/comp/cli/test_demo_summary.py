"""`comp demo --train` prints, under its summary table, what bounded each competition's demo training and how long
the demo took."""

import re

import pytest

from comp.cli._commands import demo_budget, learning_summary
from competitions.captcha import CaptchaCompetition
from tests.conftest import run_comp


def test_the_budget_names_every_override_with_nested_tables_as_dotted_keys():
    assert demo_budget({"folds": 2, "backbones": ["squeezenet1_1", "xception"], "weights": {"squeezenet1_1": "none"},
                        "crnn": {"batch_size": 16}}) == (
        "folds=2 backbones=squeezenet1_1,xception weights.squeezenet1_1=none crnn.batch_size=16")
    assert demo_budget({}) == "the competition's config as it is"
    assert demo_budget(CaptchaCompetition.demo_flags) == (
        "folds=2 trials=0 epochs=6 steps_per_epoch=100 crnn.learning_rate=0.003")


def test_the_learning_line_averages_each_networks_first_and_last_epoch_losses_over_its_folds():
    scores = {"models": {
        "crnn": {"histories": [{"loss": [180.0, 150.0, 120.0], "val_loss": [220.0, 160.0, 150.0]},
                               {"loss": [170.0, 130.0], "val_loss": [210.0, 140.0]}]},
        "logistic": {"histories": [{}, {}]},  # heads keep no epochs: no words
        "unet": {"histories": [{"loss": [0.69, 0.41]}, {"loss": [0.71, 0.45]}]},  # no validation curve
    }}
    assert learning_summary(scores) == ["crnn loss 175 -> 125, validation 215 -> 145 (2-3 epochs)",
                                        "unet loss 0.7 -> 0.43 (2 epochs)"]
    assert learning_summary({"models": {"logistic": {"histories": []}}}) == []


@pytest.mark.slow  # the toy's demo data and its training: about 40 s on two loaded CPU cores
def test_the_demo_summary_prints_each_competitions_budget_and_wall_time(tmp_path, toy_plugin_site):
    result = run_comp("demo", "toy", "--train", "--n", "60", "--out", str(tmp_path),
                      env={"PYTHONPATH": str(toy_plugin_site), "COMP_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = result.stdout[result.stdout.index("\ncompetition "):]
    assert re.search(r"^toy\s+\w+\s+[\d.]+\s+\S+\s+\S+$", summary, re.MULTILINE)
    assert re.search(r"^demo budget \(config overrides of demo --train\) and wall time of data \+ training:\n"
                     r"  toy +the competition's config as it is: \d+\.\d min$", summary, re.MULTILINE), summary
