"""Rasterisation at any size (scaled points, not a resized mask), slide reading, and agreement with the real masks."""

import cv2
import numpy as np
import pytest

from comp.errors import CompError
from competitions.pathology.masks import rasterise, read_slide, read_truth_png
from competitions.pathology.svg import read_polygons
from tests.conftest import shared_path

POLYGONS = [np.array([[20.5, 30.0], [180.0, 42.5], [150.0, 170.0], [35.0, 120.0]]),
            np.array([[220.0, 20.0], [290.0, 25.0], [260.0, 90.0]])]


def test_rasterisations_at_two_sizes_agree_after_resizing():
    full = rasterise(POLYGONS, (200, 300), (200, 300))
    half = rasterise(POLYGONS, (100, 150), (200, 300))
    assert half.shape == (100, 150) and half.sum() > 0
    shrunk = cv2.resize(full.astype(np.float32), (150, 100), interpolation=cv2.INTER_AREA) >= 0.5
    agreement = np.mean(shrunk == half.astype(bool))
    assert agreement > 0.98, agreement
    assert abs(int(full.sum()) / 4 - int(half.sum())) / (full.sum() / 4) < 0.05


def test_empty_polygon_list_and_bad_size():
    assert not rasterise([], (4, 6), (8, 12)).any()
    with pytest.raises(ValueError, match="mask size must be positive"):
        rasterise(POLYGONS, (0, 5), (10, 10))


def test_unreadable_tiff_is_one_line_naming_the_file(tmp_path):
    bad = tmp_path / "slide.tiff"
    bad.write_bytes(b"II*\x00 this is not really a tiff")
    with pytest.raises(CompError) as error:
        read_slide(bad)
    assert str(bad) in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(CompError, match="does not exist"):
        read_slide(tmp_path / "absent.tiff")


def test_tiff_is_read_as_rgb(tmp_path):
    image = np.zeros((4, 5, 3), dtype=np.uint8)
    image[..., 0] = 200  # red in RGB
    cv2.imwrite(str(tmp_path / "a.tiff"), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    read = read_slide(tmp_path / "a.tiff")
    assert read.shape == (4, 5, 3) and read[0, 0].tolist() == [200, 0, 0]


def test_real_outlines_reproduce_the_real_scoring_masks():
    root = shared_path("data", "pathology-glas")
    for stem in ("train_1", "train_2", "testA_1"):
        split = "test" if stem.startswith("test") else "train"
        truth = read_truth_png(root / split / "masks" / f"{stem}.png")
        drawn = rasterise(read_polygons(root / split / "labels" / f"{stem}.svg"), truth.shape, truth.shape)
        assert np.mean(drawn == truth) > 0.9999
