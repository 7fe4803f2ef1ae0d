"""The captcha plugin keeps the plugin contract: ``comp.testing.check_competition`` on its own demo data."""

import pytest

from comp.testing import check_competition
from competitions.captcha import CaptchaCompetition


@pytest.mark.slow  # about two fits of every demo model
def test_the_captcha_plugin_keeps_the_contract(tmp_path):
    # the hooks, not the accuracy, are under test: 20 steps instead of the demo's 1,200 (make demo's test learns)
    check_competition(CaptchaCompetition(), tmp_path, flags={"epochs": 1, "steps_per_epoch": 20})
