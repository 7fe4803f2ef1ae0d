"""The pool check: how well a network reads the texts of strips, and a run it cannot check named in one line."""

import numpy as np
import pytest

from comp.errors import CompError
from comp.io import Run
from competitions.captcha_final.pool_check import check_pool, reading_scores
from competitions.captcha_final.reading import spelled_logits

TEXTS = ["君=5;不=9;君/2+不+2+3", "不=41;君=8;(1-君/7)*不+6"]


class SpellingNetwork:
    """Stands in for a trained network: its logits spell ``spelled`` whatever the strips."""

    def __init__(self, spelled: list[str]):
        self.spelled = spelled

    def predict(self, strips, batch_size, verbose):
        assert strips.shape == (len(self.spelled), 80, 900, 1)
        return spelled_logits(self.spelled)


def test_reading_scores_count_whole_formulas_read_and_a_misread_costs_ctc_loss():
    strips = [np.zeros((80, 900), dtype=np.uint8)] * 2
    right = reading_scores(SpellingNetwork(TEXTS), strips, TEXTS)
    half = reading_scores(SpellingNetwork([TEXTS[0], TEXTS[0]]), strips, TEXTS)
    assert right["images"] == 2 and right["greedy_sequence_accuracy"] == 1.0
    assert half["greedy_sequence_accuracy"] == 0.5 and half["ctc_loss"] > right["ctc_loss"] + 1.0


def test_the_pool_check_of_a_run_without_a_finished_network_says_so_in_one_line(tmp_path):
    Run.create(tmp_path, "captcha-final", out=tmp_path / "run").write_json(
        "config.json", {"competition": "captcha-final", "config": {"seed": 42}})
    with pytest.raises(CompError, match=r"no finished crnn model in scores.json") as error:
        check_pool(tmp_path / "run")
    assert "\n" not in str(error.value)
