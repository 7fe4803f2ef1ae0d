"""The robustness check's other renderer: the same grammar with correct values, other fonts and other noise than the
training renderer, boxes the default crop can be scored against, and never a source of the training stream."""

import ast
import random
from pathlib import Path

import cv2
import numpy as np

from competitions.captcha_final.boxes import contains
from competitions.captcha_final.crop_quality import measure_crop_quality
from competitions.captcha_final.demo import draw_image
from competitions.captcha_final.fonts import cjk_faces, latin_faces
from competitions.captcha_final.formulas import exact_value, format_value
from competitions.captcha_final.other_renderer import draw_other, draw_other_style, main
from competitions.captcha_final.reader import read_dataset
from competitions.captcha_final.streams import DEMO_STREAM

PACKAGE = Path(__file__).resolve().parents[3] / "competitions" / "captcha_final"


def test_the_written_set_has_grammatical_labels_with_their_values_and_official_sizes(tmp_path, capsys):
    main(["--out", str(tmp_path / "other"), "--n", "4", "--seed", "3"])
    assert "4 images by the other renderer" in capsys.readouterr().out
    dataset = read_dataset(tmp_path / "other")  # a wrong value or ungrammatical line would be named here
    assert dataset.inputs["bad_labels"] == [] and len(dataset.train) == 4
    lines = (tmp_path / "other" / "labels.txt").read_text(encoding="utf-8").splitlines()
    for line, formulas, path in zip(lines, dataset.train["label"], dataset.train["path"]):
        assert line == f"{formulas} {format_value(exact_value(formulas))}"
        height, width = cv2.imread(path).shape[:2]
        assert height in range(400, 1001, 100) and width in (800, 1600, 2400, 3200, 4000)
    again = draw_other(3, 2)
    assert again.formulas == dataset.train["label"][2] and np.array_equal(again.image, draw_other(3, 2).image)


def test_every_label_character_has_a_box_in_the_image_and_the_default_crop_holds_them():
    for index in range(3):
        captcha = draw_other(0, index)
        height, width = captcha.image.shape[:2]
        assert [len(boxes) for boxes in captcha.character_boxes] == [len(line) for line in captcha.formulas.split(";")]
        assert all(contains((0, 0, width, height), box) for line in captcha.character_boxes for box in line)
    assert measure_crop_quality(4, seed=0, draw=draw_other).fraction_right == 1.0


def test_digits_come_from_faces_training_never_uses_and_variables_are_drawn_bold_or_hollow():
    styles = [draw_other_style(random.Random(seed)) for seed in range(60)]
    training = set(latin_faces()) | set(cjk_faces())
    assert not {style.digit_face for style in styles} & training
    assert len({style.digit_face for style in styles}) >= 8
    assert {style.cjk_effect for style in styles} == {"bold", "hollow"}


def pepper_share(image: np.ndarray) -> float:
    """The share of pixels that are near black while their 3x3 neighbourhood is light: isolated dark points."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    return float(np.mean((grey <= 30) & (cv2.medianBlur(grey, 3) >= 120)))


def test_its_noise_differs_from_the_training_renderers():
    other = [pepper_share(draw_other(1, index).image) for index in range(4)]
    training = [pepper_share(draw_image(DEMO_STREAM, 1, index).image) for index in range(4)]
    assert min(other) > 5 * max(training), (other, training)


def test_no_module_of_the_plugin_but_the_crop_quality_tool_imports_it():
    importers = set()
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "competitions.captcha_final.other_renderer":
                importers.add(path.name)
    assert importers == {"crop_quality.py"}  # the stream (batches.py), demo, spec and plugin draw from renderer.py
