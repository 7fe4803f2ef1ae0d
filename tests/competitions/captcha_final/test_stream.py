"""The endless training stream: strips with grammatical labels, and batch i the same however the batches are
drawn (the growing crop pool included)."""

import numpy as np

from competitions.captcha_final.batches import FormulaBatches
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.reading import CHARACTERS


def test_batches_hold_strips_with_grammatical_labels_and_do_not_depend_on_the_drawing_order():
    first = FormulaBatches(seed=5, batch_size=4, recombined_fraction=0.5, pool_size=8, workers=0)
    second = FormulaBatches(seed=5, batch_size=4, recombined_fraction=0.5, pool_size=8, workers=0)
    strips, labels = first[2]
    assert strips.shape == (4, 80, 900, 1) and strips.dtype == np.uint8 and labels.shape == (4, 46)
    assert all(is_grammatical(text) for text in CHARACTERS.texts(labels))
    second[0]  # the other stream grows its pool from another index first
    again_strips, again_labels = second[2]
    assert np.array_equal(strips, again_strips) and np.array_equal(labels, again_labels)
