"""The shared report sections of a reading run: the least-edits alignment and the character tallies behind them."""

from comp.sequence import align, character_tallies


def test_alignment_pairs_each_true_character_with_what_was_read():
    assert align("12+3", "12+3") == [("1", "1"), ("2", "2"), ("+", "+"), ("3", "3")]
    assert align("12+3", "1+8") == [("1", "1"), ("2", ""), ("+", "+"), ("3", "8")]
    assert align("7", "") == [("7", "")] and align("", "-") == [("", "-")]
    occurrences, right, confusions = character_tallies(["12+3", "4*5"], ["1+8", "4*5-"])
    assert occurrences["1"] == 1 and right["1"] == 1 and right["3"] == 0 and occurrences["+"] == 1
    assert confusions == {("2", ""): 1, ("3", "8"): 1, ("", "-"): 1}
