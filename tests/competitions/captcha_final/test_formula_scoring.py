"""Scores of the final round: whole-text sequence accuracy, and value accuracy within 0.01 by exact arithmetic."""

import pytest

from competitions.captcha_final.scoring import sequence_accuracy, value_accuracy

TRUTH = ["君=6;不=4;君/3*(2+不)-1", "君=1;2-君/3+4*5", "河=99999;铁=99999;99999*(河/7-1)*铁"]


def test_sequence_accuracy_counts_only_whole_texts_read_exactly():
    assert sequence_accuracy(TRUTH, TRUTH) == 1.0
    assert sequence_accuracy(TRUTH, [TRUTH[0], TRUTH[1] + "1", ""]) == pytest.approx(1 / 3)
    assert sequence_accuracy([], []) == 0.0


def test_value_accuracy_takes_any_grammatical_reading_worth_the_same_and_no_unreadable_one():
    same_value = "君=6;不=4;(2+不)*君/3-1"  # another text, also worth 11
    same_text = "君=1;2-君/3+4*5"  # the same text
    one_digit_off = "河=99999;铁=99999;99998*(河/7-1)*铁"
    assert value_accuracy(TRUTH, [same_value, same_text, one_digit_off]) == pytest.approx(2 / 3)
    assert value_accuracy(TRUTH, ["", "君=1;", "not formulas"]) == 0.0


def test_value_accuracy_accepts_a_difference_of_one_hundredth_and_no_more():
    truth = ["君=1;君/100+0+0+0"]  # 0.01
    assert value_accuracy(truth, ["君=2;君/100+0+0+0"]) == 1.0  # 0.02: off by exactly 0.01
    assert value_accuracy(truth, ["君=3;君/100+0+0+0"]) == 0.0  # 0.03


def test_scores_refuse_lists_of_different_lengths():
    with pytest.raises(ValueError, match="3 true formulas but 2 predictions"):
        sequence_accuracy(TRUTH, TRUTH[:2])
    with pytest.raises(ValueError, match="3 true formulas but 2 predictions"):
        value_accuracy(TRUTH, TRUTH[:2])
