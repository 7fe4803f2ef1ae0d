"""The shared CTC pieces without TensorFlow: the character table, batched greedy decoding, the constrained beam."""

import numpy as np
import pytest

from comp.sequence import CharacterTable, constrained_beam_decode, greedy_decode

TABLE = CharacterTable("ab", longest=4)


def test_the_table_encodes_with_blank_padding_and_refuses_what_it_cannot_encode():
    assert TABLE.n_classes == 3
    assert TABLE.encode(["ab", "b"]).tolist() == [[1, 2, 0, 0], [2, 0, 0, 0]]
    with pytest.raises(ValueError, match="longer than 4"):
        TABLE.encode(["aaaaa"])
    with pytest.raises(ValueError, match="the character 'c'"):
        TABLE.encode(["ac"])
    with pytest.raises(ValueError, match="repeats a character"):
        CharacterTable("aa", longest=2)


def test_greedy_decoding_merges_repeats_keeps_repeats_split_by_a_blank_and_drops_blanks():
    best = np.array([[1, 1, 0, 1, 2, 2], [0, 0, 0, 0, 0, 0], [2, 0, 2, 2, 0, 0]])
    logits = np.eye(3)[best]  # (3, 6, 3) one-hot
    assert greedy_decode(logits, TABLE).tolist() == ["aab", "", "bb"]
    assert greedy_decode(np.zeros((0, 6, 3)), TABLE).tolist() == []
    with pytest.raises(ValueError, match=r"needs \(n, steps, 3\) scores"):
        greedy_decode(np.zeros((2, 6, 4)), TABLE)


def test_the_beam_keeps_to_the_prefix_rule_and_returns_only_complete_texts():
    steps = np.log(np.full((1, 4, 3), 1 / 3))  # every path equally likely
    only_b = constrained_beam_decode(steps, TABLE, is_prefix=lambda text: set(text) <= {"b"},
                                     is_complete=lambda text: text == "bb", beam_width=4)
    assert only_b.tolist() == ["bb"]
    nothing = constrained_beam_decode(steps, TABLE, is_prefix=lambda text: True,
                                      is_complete=lambda text: text == "abab" * 2, beam_width=2)
    assert nothing.tolist() == [""]
