"""The pathology run's report: outlines over sampled OOF and test slides, and the per-image F1 histogram."""

import re

import numpy as np

from competitions.pathology.demo import HEIGHT, WIDTH
from competitions.pathology.report import LEGEND, TRUE_COLOUR, draw_outlines, held_out_sample, per_image_f1
from competitions.pathology.scoring import pixel_f1_of_masks, probability_histogram
from tests.conftest import report_images

PATHOLOGY_SECTIONS = ("Post-processing and fusion fitted on OOF", "Predicted and true outlines (OOF sample)",
                      "Predicted and true outlines (test sample)", "Per-image pixel F1 (OOF)")


def test_held_out_sample_spreads_over_the_fold():
    assert held_out_sample(np.array([3, 5, 8, 9, 12])).tolist() == [3, 12]
    assert held_out_sample(np.array([7])).tolist() == [7]
    assert held_out_sample(np.array([], dtype=np.int64)).tolist() == []


def test_outlines_follow_the_region_border_only():
    mask = np.zeros((40, 40), dtype=np.uint8)
    mask[10:30, 10:30] = 1
    thumbnail = np.zeros((20, 20, 3), dtype=np.uint8)
    draw_outlines(thumbnail, mask, TRUE_COLOUR)
    drawn = thumbnail.any(axis=2)
    assert drawn[5, 5:15].all() and drawn[5:15, 5].all()  # the border of the halved square
    assert not drawn[8:12, 8:12].any() and not drawn[0:3].any()  # nothing inside it or far outside


def test_per_image_f1_equals_f1_of_the_thresholded_map():
    rng = np.random.default_rng(0)
    truths = [rng.random((30, 40)) < 0.3, np.zeros((30, 40), bool), np.zeros((30, 40), bool)]
    maps = [np.clip(truths[0] * 0.6 + rng.random((30, 40)) * 0.5, 0, 1), np.full((30, 40), 0.2),
            np.full((30, 40), 0.7)]
    histograms = np.stack([probability_histogram(p, t) for p, t in zip(maps, truths)])
    expected = [pixel_f1_of_masks(t, p >= 0.55) for p, t in zip(maps, truths)]
    assert np.allclose(per_image_f1(histograms, 0.55), expected) and expected[1:] == [1.0, 0.0]


def test_the_report_written_by_train_has_outlines_and_the_f1_histogram(pathology_demo_run):
    report = (pathology_demo_run / "report.html").read_text(encoding="utf-8")
    for title in PATHOLOGY_SECTIONS:
        assert f"<h2>{title}</h2>" in report, title
    captions = [caption.split("\n")[0] for caption in re.findall(r"<figcaption>(.*?)</figcaption>", report, re.S)]
    held_out = [caption for caption in captions if "held out in fold" in caption]
    assert len(held_out) == 4 and {caption[-2] for caption in held_out} == {"0", "1"}  # two per fold, two folds
    assert [caption for caption in captions if caption.startswith("test ")] == ["test test_1", "test test_2",
                                                                                 "test test_3"]
    assert "(final candidate unet" in report
    assert report.count(LEGEND.replace("'", "&#x27;")) == 2
    saved = sorted(pathology_demo_run.glob("fold_cache/unet/*/fold*/model/held_out_*.npy"))
    assert len(saved) == 8 and all(np.load(path).shape == (96, 128) for path in saved)  # every slide, scale 0.5
    images = report_images(pathology_demo_run / "report.html")
    assert all(image is not None for image in images)
    assert sum(image.shape[:2] == (HEIGHT, WIDTH) for image in images) == 7  # slides under 260 px keep their size
