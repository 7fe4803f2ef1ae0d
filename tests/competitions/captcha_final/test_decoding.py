"""Reading formulas from CTC outputs: the grammar's prefix check, greedy decoding, and the constrained beam decoder
that never returns an ungrammatical text."""

import random

import numpy as np
import pytest

from competitions.captcha_final.formulas import ALPHABET, is_grammatical, random_formulas
from competitions.captcha_final.grammar_prefix import is_formula_prefix
from competitions.captcha_final.reading import CHARACTERS, TIME_STEPS, decode_formulas, spelled_logits


def test_every_prefix_of_generated_formulas_may_grow_and_broken_ones_may_not():
    rng = random.Random(3)
    for _ in range(300):
        formulas = random_formulas(rng)
        assert all(is_formula_prefix(formulas[:end]) for end in range(len(formulas) + 1)), formulas
    for broken in ["君=0123", "君=100001", "君=5;不=6;烟", "君=5;君=6", "君=5;君/0", "君=5;君/3/", "君=5;不=1;不=2",
                   "君=5;1+2+3+4", "君=5;君/2+君", "君=5;(((", "=5", ";", "君=5;不=6;君/2+不+1+2+3"]:
        assert not is_formula_prefix(broken), broken
    assert not is_formula_prefix("1" * 47)


def test_greedy_and_grammar_decoding_read_clean_outputs_alike():
    rng = random.Random(5)
    texts = [random_formulas(rng) for _ in range(4)]
    logits = spelled_logits(texts)
    assert decode_formulas(logits).tolist() == texts
    assert decode_formulas(logits, "grammar", beam_width=4).tolist() == texts
    with pytest.raises(ValueError, match="unknown decoder 'viterbi'"):
        decode_formulas(logits, "viterbi")


def test_the_grammar_decoder_mends_a_likely_misreading_into_a_grammatical_one():
    truth = "君=5;君/2+1+2+3"
    logits = spelled_logits([truth])
    doubled = 2 * truth.index("/")
    logits[0, doubled, CHARACTERS.class_of_character["/"]] = 15.0  # '/' only a little less likely than '7' here
    logits[0, doubled, CHARACTERS.class_of_character["7"]] = 16.0
    assert decode_formulas(logits).tolist() == ["君=5;君72+1+2+3"]  # greedy: ungrammatical
    assert decode_formulas(logits, "grammar").tolist() == [truth]


def test_the_grammar_decoder_never_returns_an_ungrammatical_text_from_random_outputs():
    generator = np.random.default_rng(0)
    rng = random.Random(0)
    texts = [random_formulas(rng) for _ in range(6)]
    noisy = spelled_logits(texts) + generator.normal(0, 5.0, (6, TIME_STEPS, CHARACTERS.n_classes))
    random_outputs = generator.normal(0, 2.0, (14, TIME_STEPS, CHARACTERS.n_classes))
    for logits in (noisy, random_outputs):
        for text in decode_formulas(logits.astype(np.float32), "grammar", beam_width=4):
            assert text == "" or is_grammatical(text), text  # "" stands for nothing read
    assert any(decode_formulas(noisy.astype(np.float32), "grammar", beam_width=4))


def test_the_alphabet_holds_every_character_the_network_reads():
    assert CHARACTERS.alphabet == ALPHABET and CHARACTERS.n_classes == len(ALPHABET) + 1
    assert TIME_STEPS >= 2 * CHARACTERS.longest
