"""The captcha-final plugin keeps the plugin contract: ``comp.testing.check_competition`` on its own demo data."""

import pytest

from comp.testing import check_competition
from competitions.captcha_final import CaptchaFinalCompetition


@pytest.mark.slow  # renders 24 large captchas and fits two tiny folds: about a minute on two CPU cores
def test_the_captcha_final_plugin_keeps_the_contract(tmp_path):
    check_competition(CaptchaFinalCompetition(), tmp_path, flags={"epochs": 1, "steps_per_epoch": 5})
