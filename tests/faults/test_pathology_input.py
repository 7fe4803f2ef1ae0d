"""Broken pathology inputs through the CLI: a non-XML SVG, an odd polygon, an unreadable TIFF, each one named line."""

import pytest

from competitions.pathology.demo import write_demo
from tests.conftest import run_comp
from tests.faults.conftest import one_line_error


def first_outline(data):
    """The first training SVG of the demo (every demo set has at least one)."""
    return sorted((data / "train" / "labels").glob("*.svg"))[0]


def svg_not_xml(data):
    """An outline file that is not XML at all."""
    culprit = first_outline(data)
    culprit.write_text("this is not <svg")
    return culprit


def odd_coordinates(data):
    """A polygon whose points list ends with a lone x."""
    culprit = first_outline(data)
    culprit.write_text('<svg xmlns="http://www.w3.org/2000/svg"><polygon points="1,2 3,4 5,6 7" /></svg>')
    return culprit


def unreadable_training_tiff(data):
    """A training slide whose bytes are text."""
    culprit = data / "train" / "image" / "train_2.tiff"
    culprit.write_bytes(b"not an image")
    return culprit


def truncated_test_tiff(data):
    """A test slide cut off after its header."""
    culprit = data / "test" / "image" / "test_1.tiff"
    culprit.write_bytes(culprit.read_bytes()[:64])
    return culprit


@pytest.mark.parametrize("damage, expected", [
    (svg_not_xml, "is not a readable SVG"),
    (odd_coordinates, "odd number of coordinates"),
    (unreadable_training_tiff, "cannot read the image"),
    (truncated_test_tiff, "cannot read the image"),
])
def test_broken_pathology_input_is_one_line_naming_the_file(tmp_path, damage, expected):
    data = write_demo(tmp_path / "data", n=4, seed=0)
    culprit = damage(data)
    line = one_line_error(run_comp("train", "pathology", "--data", str(data), "--out", str(tmp_path / "run"),
                                   "--weights", "squeezenet1_1=none", cwd=tmp_path))  # the FCN-8s encoder's
    assert str(culprit) in line and expected in line
