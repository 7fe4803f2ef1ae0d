"""The dogs plugin keeps the plugin contract: ``comp.testing.check_competition`` on its own demo data."""

import pytest

from comp.testing import check_competition
from competitions.dogs import DogsCompetition


@pytest.mark.slow  # about two fits of every demo model: minutes on two CPU cores
def test_the_dogs_plugin_keeps_the_contract(tmp_path):
    check_competition(DogsCompetition(), tmp_path)
