"""SVG outlines: several polygons, decimal points, polylines and straight paths; missing and malformed files."""

import numpy as np
import pytest

from comp.errors import CompError
from competitions.pathology.masks import read_mask
from competitions.pathology.svg import polygons_svg, read_polygons

TWO_POLYGONS = """<?xml version="1.0"?>
<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30">
  <polygon fill="none" stroke="#000" points="1,1 10,1 10,8 1,8" />
  <g><polygon fill="red" points="20.5,10.25 30.75,10.25 30.75,20.5" /></g>
  <polyline points="2 20, 6 20, 6 26" />
  <path d="M 32 2 L 38 2 38 8 Z m -4 20 h 3 v 3 z" />
</svg>
"""


def test_every_polygon_polyline_and_straight_path_is_read_with_decimals(tmp_path):
    path = tmp_path / "a.svg"
    path.write_text(TWO_POLYGONS)
    polygons = read_polygons(path)
    assert len(polygons) == 5
    np.testing.assert_allclose(polygons[1], [[20.5, 10.25], [30.75, 10.25], [30.75, 20.5]])
    np.testing.assert_allclose(polygons[3], [[32, 2], [38, 2], [38, 8]])
    np.testing.assert_allclose(polygons[4], [[28, 22], [31, 22], [31, 25]])  # relative m/h/v after Z


def test_unfilled_outlines_mark_inside_and_outline(tmp_path):
    path = tmp_path / "a.svg"
    path.write_text(TWO_POLYGONS)
    mask = read_mask(path, (30, 40), (30, 40))
    assert mask.dtype == np.uint8 and set(np.unique(mask)) == {0, 1}
    assert mask[1:9, 1:11].all()  # fill="none" still marks the whole rectangle, border included
    assert mask[5, 5] == 1 and mask[0, 0] == 0 and mask[15, 15] == 0
    assert mask[23, 29] == 1  # the relative subpath


def test_missing_svg_is_an_empty_mask(tmp_path):
    assert read_polygons(tmp_path / "absent.svg") == []
    assert not read_mask(tmp_path / "absent.svg", (5, 7), (10, 14)).any()
    assert read_mask(None, (5, 7), (5, 7)).shape == (5, 7)


@pytest.mark.parametrize("text, problem", [
    ("<svg><polygon points='1,1 2,2'", "not a readable SVG"),
    ("<svg xmlns='http://www.w3.org/2000/svg'><polygon points='1,1 2,2 3' /></svg>", "odd number of coordinates"),
    ("<svg><polygon points='1,1 2,x 3,3' /></svg>", "'x' in points is not a number"),
    ("<svg><path d='M 1 1 C 2 2 3 3 4 4' /></svg>", "draws a curve"),
    ("<html><polygon points='1,1 2,2 3,3' /></html>", "root element is <html>"),
])
def test_malformed_svg_is_one_line_naming_the_file(tmp_path, text, problem):
    path = tmp_path / "bad.svg"
    path.write_text(text)
    with pytest.raises(CompError) as error:
        read_polygons(path)
    message = str(error.value)
    assert str(path) in message and problem in message and "\n" not in message


def test_written_svg_reads_back(tmp_path):
    polygons = [np.array([[1.5, 2.0], [9.0, 2.0], [9.0, 7.25]])]
    path = tmp_path / "out.svg"
    path.write_text(polygons_svg(polygons, 12, 10))
    np.testing.assert_allclose(read_polygons(path)[0], polygons[0])
