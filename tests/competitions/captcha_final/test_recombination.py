"""The seed's recombination: an expression crop with assignment crops of the same variables from other images, and
a label that says exactly what the strip shows."""

import random

import numpy as np

from competitions.captcha_final.cropping import crops_strip
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.recombination import CropPool
from competitions.captcha_final.renderer import render_captcha
from competitions.captcha_final.strips import line_crops

SOURCES = ["君=5;不=9;君/2+不+2+3", "不=41;君=8;(1-君/7)*不+6", "君=300;4*君/3+2+2", "不=12;1+不/12-3-4"]


def labelled_crop(text: str, source: int) -> np.ndarray:
    """A stand-in crop whose pixels name its line: every pixel is the source number, its width the text's length."""
    return np.full((20 + source, 10 * len(text)), source + 1, dtype=np.uint8)


def test_a_recombined_label_is_grammatical_and_each_of_its_lines_is_the_crop_filed_under_that_text():
    pool = CropPool()
    for source, formulas in enumerate(SOURCES):
        assert pool.add(formulas, [labelled_crop(text, source) for text in formulas.split(";")])
    assert not pool.add("君=1;君/2+1+2+3", [labelled_crop("君=1", 9)])  # one crop for two lines: not pooled
    rng = random.Random(0)
    samples = [pool.recombined(rng) for _ in range(200)]
    made = [sample for sample in samples if sample is not None]
    assert len(made) > 100
    assert any(formulas not in SOURCES for _, formulas, _ in made)  # new formulas, not only the sources'
    for strip, formulas, lines in made:
        assert is_grammatical(formulas)
        assert formulas.split(";") == [line.text for line in lines]
        *assignments, expression = lines
        assert all(line.source != expression.source for line in assignments)
        for line in lines:
            assert np.array_equal(line.crop, labelled_crop(line.text, line.source))
            assert line.text in SOURCES[line.source].split(";")
        assert np.array_equal(strip, crops_strip([line.crop for line in lines]))


def test_recombining_rendered_captchas_pairs_real_line_crops():
    rng = random.Random(4)
    pool = CropPool()
    for formulas in SOURCES[:2]:
        crops = line_crops(render_captcha(formulas, rng).image)
        assert pool.add(formulas, crops)
    strip, formulas, lines = pool.recombined(random.Random(1))
    assert strip.shape == (80, 900) and strip.max() > 0
    assert is_grammatical(formulas) and len(lines) == 3
    assert {line.source for line in lines[:2]} == {1 - lines[2].source}
