"""The seed's crop: each formula line found whole on generated images, no text named, the strip's layout."""

import dataclasses
import random

import cv2
import numpy as np
import pytest

from competitions.captcha_final.crop_quality import crop_fault, measure_crop_quality, stream
from competitions.captcha_final.cropping import STRIP_HEIGHT, STRIP_WIDTH, NoTextRegion, find_lines, line_strip
from competitions.captcha_final.formulas import random_formulas
from competitions.captcha_final.renderer import render_captcha


def test_the_crop_holds_every_character_of_each_line_in_its_own_box_on_generated_images():
    quality = measure_crop_quality(24, seed=11)
    assert quality.faults == [] and quality.fraction_right == 1.0


def test_line_boxes_come_top_to_bottom_and_sit_on_the_known_lines():
    rng = stream(3, 0)
    captcha = render_captcha(random_formulas(rng), rng)
    boxes = find_lines(captcha.image)
    assert len(boxes) == len(captcha.line_boxes)
    for found, known in zip(boxes, captcha.line_boxes):
        overlap = min(found[3], known[3]) - max(found[1], known[1])
        assert overlap >= 0.8 * (known[3] - known[1])


def blank_image(seed: int) -> np.ndarray:
    """A light 800x1600 picture with specks and a thin interference line, and no text."""
    rng = np.random.default_rng(seed)
    image = np.full((800, 1600, 3), (235, 228, 240), dtype=np.uint8)
    rows, columns = rng.integers(0, 800, 1500), rng.integers(0, 1600, 1500)
    image[rows, columns] = rng.integers(0, 256, (1500, 3), dtype=np.uint8)
    cv2.line(image, (100, 700), (1500, 90), (40, 90, 200), 1)
    return image


def test_an_image_with_no_text_region_is_reported_by_name_not_a_crash():
    with pytest.raises(NoTextRegion, match="no text region found in the 1600x800 image"):
        find_lines(blank_image(0))
    with pytest.raises(NoTextRegion):
        find_lines(np.full((400, 800), 255, dtype=np.uint8))


def test_crop_quality_counts_an_image_without_text_as_a_named_fault():
    rng = random.Random(1)
    captcha = render_captcha(random_formulas(rng), rng)
    assert crop_fault(dataclasses.replace(captcha, image=np.full_like(captcha.image, 230))).startswith("NoTextRegion")


def test_a_wrong_image_array_is_refused_with_its_shape():
    with pytest.raises(ValueError, match="float64"):
        find_lines(np.zeros((400, 800)))


def test_the_strip_puts_the_lines_left_to_right_top_line_first_enlarged_alike_until_the_row_fills_its_height():
    image = np.zeros((300, 600), dtype=np.uint8)
    image[10:40, 10:110] = 50  # line 1: 100x30
    image[100:130, 20:80] = 100  # line 2: 60x30
    image[200:260, 5:305] = 150  # line 3: 300x60, the row's height: 60 -> 80 scales every line by 4/3
    strip = line_strip(image, [(10, 10, 110, 40), (20, 100, 80, 130), (5, 200, 305, 260)])
    assert strip.shape == (STRIP_HEIGHT, STRIP_WIDTH)
    assert (strip[40, :133] == 50).all() and (strip[40, 136:216] == 100).all() and (strip[:, 219:619] == 150).all()
    assert (strip[:, 619:] == 0).all() and (strip[:20, :133] == 0).all() and (strip[20:60, :133] == 50).all()


def test_a_row_of_lines_too_wide_for_the_strip_shrinks_whole():
    image = np.full((100, 2000, 3), 200, dtype=np.uint8)
    strip = line_strip(image, [(0, 0, 1000, 40), (1000, 0, 1800, 40)])
    assert strip.shape == (STRIP_HEIGHT, STRIP_WIDTH, 3)
    filled_columns = (strip.max(axis=(0, 2)) > 0).sum()
    assert STRIP_WIDTH - 2 <= filled_columns <= STRIP_WIDTH
    with pytest.raises(NoTextRegion):
        line_strip(image, [])


def test_a_long_interference_line_through_the_text_does_not_stretch_its_crop():
    image = np.full((800, 1600, 3), 235, dtype=np.uint8)
    cv2.putText(image, "73521+8113*4043", (500, 420), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (30, 120, 40), 3)
    rows, columns = np.nonzero(image.min(axis=2) < 200)
    cv2.line(image, (450, 0), (1250, 799), (120, 40, 160), 2)  # top edge to bottom edge, through the digits
    (box,) = find_lines(image)
    assert box[0] <= columns.min() and columns.max() < box[2] and box[1] <= rows.min() and rows.max() < box[3]
    assert box[3] - box[1] < 3.5 * (rows.max() - rows.min())  # 92 rows for 30 of text; the line taken whole: 218
