"""The final round's renderer: official image sizes, a box per label character, reproducible, fonts that draw all."""

import random

import numpy as np
import pytest
from fontTools.ttLib import TTFont

from competitions.captcha_final.boxes import contains, union
from competitions.captcha_final.fonts import MissingFontError, cjk_faces, latin_faces, package_file
from competitions.captcha_final.formulas import ALPHABET, VARIABLES, random_formulas
from competitions.captcha_final.renderer import VARIATION, render_captcha


def rendered(seed: int):
    rng = random.Random(seed)
    return render_captcha(random_formulas(rng), rng)


@pytest.fixture(scope="module")
def captchas():
    return [rendered(seed) for seed in range(12)]


def test_images_have_the_official_heights_and_widths(captchas):
    for captcha in captchas:
        height, width, channels = captcha.image.shape
        assert height in VARIATION.heights and width in VARIATION.widths and channels == 3
        assert captcha.image.dtype == np.uint8


def test_every_label_character_has_an_ink_box_inside_the_image_in_line_order(captchas):
    for captcha in captchas:
        lines = captcha.formulas.split(";")
        assert [len(boxes) for boxes in captcha.character_boxes] == [len(line) for line in lines]
        height, width = captcha.image.shape[:2]
        assert contains((0, 0, width, height), captcha.region)
        tops = [box[1] for box in captcha.line_boxes]
        assert tops == sorted(tops)
        for upper, lower in zip(captcha.line_boxes, captcha.line_boxes[1:]):
            assert upper[3] <= lower[1], "formula lines are stacked, never overlapping"
        for boxes in captcha.character_boxes:
            assert all(box[0] < box[2] and box[1] < box[3] for box in boxes)


def test_the_text_is_drawn_where_its_boxes_say(captchas):
    for captcha in captchas:
        grey = captcha.image.mean(axis=2)
        left, top, right, bottom = captcha.region
        background = np.median(grey)
        inside = grey[top:bottom, left:right]
        assert (inside < background - 40).mean() > 0.03, "the region holds dark ink"


def test_the_fraction_is_stacked_numerator_over_bar_over_denominator(captchas):
    for captcha in captchas:
        expression, boxes = captcha.formulas.split(";")[-1], captcha.character_boxes[-1]
        slash = expression.index("/")
        digits = len(expression[slash + 1:]) - len(expression[slash + 1:].lstrip("0123456789"))
        numerator, bar, denominator = boxes[slash - 1], boxes[slash], boxes[slash + 1:slash + 1 + digits]
        assert expression[slash - 1] in VARIABLES
        assert bar[3] - bar[1] <= 3 and numerator[3] <= bar[1] + 1
        assert contains((bar[0], numerator[1], bar[2], bar[1] + 1), numerator), "the numerator is over the bar"
        assert all(bar[3] <= digit[1] + 1 for digit in denominator), "the denominator is under the bar"
        assert bar[0] - 2 <= denominator[0][0] and denominator[-1][2] <= bar[2] + 2
        centres = [(digit[0] + digit[2]) / 2 for digit in denominator]
        assert centres == sorted(centres), "the denominator's digits run left to right"


def test_equal_seeds_draw_equal_images_and_different_seeds_different_ones():
    first, again, other = rendered(3), rendered(3), rendered(4)
    assert np.array_equal(first.image, again.image) and first.character_boxes == again.character_boxes
    assert first.image.shape != other.image.shape or not np.array_equal(first.image, other.image)


def test_looks_vary_between_images(captchas):
    backgrounds = {tuple(np.median(captcha.image.reshape(-1, 3), axis=0)) for captcha in captchas}
    heights = {union(captcha.line_boxes[:1])[3] - union(captcha.line_boxes[:1])[1] for captcha in captchas}
    assert len(backgrounds) > 6 and len(heights) > 6


def test_every_face_draws_every_character_it_is_used_for():
    for face in cjk_faces():
        cmap = TTFont(face.path, fontNumber=face.index, lazy=True).getBestCmap()
        assert not [character for character in ALPHABET if ord(character) not in cmap], face.name
    for face in latin_faces():
        cmap = TTFont(face.path, fontNumber=face.index, lazy=True).getBestCmap()
        assert not [character for character in ALPHABET if character not in VARIABLES
                    and ord(character) not in cmap], face.name
    assert len(cjk_faces()) == 4 and len(latin_faces()) == 7


def test_a_missing_font_package_is_named_with_how_to_install_it():
    with pytest.raises(MissingFontError, match="pip install no-such-font-package"):
        package_file("no-such-font-package", "no_such_font_module", "fonts/x.otf")
