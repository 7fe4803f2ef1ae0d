"""The pathology plugin keeps the plugin contract: ``comp.testing.check_competition`` on its own demo data."""

import pytest

from comp.testing import check_competition
from competitions.pathology import PathologyCompetition


@pytest.mark.slow  # about two fits of every demo model: minutes on two CPU cores
def test_the_pathology_plugin_keeps_the_contract(tmp_path):
    check_competition(PathologyCompetition(), tmp_path)
