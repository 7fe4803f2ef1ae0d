"""`comp demo --train` prints, under its summary table, what bounded each competition's demo training and how long
the demo took."""

import re

import pytest

from comp.cli._commands import demo_budget
from competitions.captcha import CaptchaCompetition
from tests.conftest import run_comp


def test_the_budget_names_every_override_with_nested_tables_as_dotted_keys():
    assert demo_budget({"folds": 2, "backbones": ["squeezenet1_1", "xception"], "weights": {"squeezenet1_1": "none"},
                        "crnn": {"batch_size": 16}}) == (
        "folds=2 backbones=squeezenet1_1,xception weights.squeezenet1_1=none crnn.batch_size=16")
    assert demo_budget({}) == "the competition's config as it is"
    assert demo_budget(CaptchaCompetition.demo_flags) == (
        "folds=2 trials=0 epochs=6 steps_per_epoch=100 crnn.learning_rate=0.003")


@pytest.mark.slow  # the toy's demo data and its training: about 40 s on two loaded CPU cores
def test_the_demo_summary_prints_each_competitions_budget_and_wall_time(tmp_path, toy_plugin_site):
    result = run_comp("demo", "toy", "--train", "--n", "60", "--out", str(tmp_path),
                      env={"PYTHONPATH": str(toy_plugin_site), "COMP_CACHE_DIR": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr[-3000:]
    summary = result.stdout[result.stdout.index("\ncompetition "):]
    assert re.search(r"^toy\s+\w+\s+[\d.]+\s+\S+\s+\S+$", summary, re.MULTILINE)
    assert re.search(r"^demo budget \(config overrides of demo --train\) and wall time of data \+ training:\n"
                     r"  toy +the competition's config as it is: \d+\.\d min$", summary, re.MULTILINE), summary
