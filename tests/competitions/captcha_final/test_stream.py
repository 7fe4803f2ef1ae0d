"""The endless training stream: strips with grammatical labels, and batch i the same however the batches are
drawn (the sliding crop pool included)."""

import random

import cv2
import numpy as np

from competitions.captcha_final import batches
from competitions.captcha_final.batches import FormulaBatches, SlidingPool
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.reading import CHARACTERS
from competitions.captcha_final.renderer import render_captcha


def test_batches_hold_strips_with_grammatical_labels_and_do_not_depend_on_the_drawing_order():
    first = FormulaBatches(seed=5, batch_size=4, recombined_fraction=0.5, pool_size=8, workers=0)
    second = FormulaBatches(seed=5, batch_size=4, recombined_fraction=0.5, pool_size=8, workers=0)
    strips, labels = first[2]
    assert strips.shape == (4, 80, 900, 1) and strips.dtype == np.uint8 and labels.shape == (4, 46)
    assert all(is_grammatical(text) for text in CHARACTERS.texts(labels))
    second[0]  # the other stream grows its pool from another index first
    again_strips, again_labels = second[2]
    assert np.array_equal(strips, again_strips) and np.array_equal(labels, again_labels)


def test_the_crop_pool_slides_so_a_late_batch_recombines_only_the_newest_renders_and_old_ones_are_forgotten():
    pool = SlidingPool(seed=5, size=8, labelled=[])
    assert pool.window(0) == set(range(4)) and pool.window(1) == set(range(8))  # fills 4 a batch
    assert pool.window(2) == set(range(1, 9)) and pool.window(10) == set(range(9, 17))  # then slides 1 a batch
    for index in range(12):
        sources = pool.sources_for(index)
    assert sources == set(range(10, 18))
    assert len(pool.pooled) <= 2 * 8 and min(pool.pooled) >= 10 - 8  # older renders are gone from memory
    rng = random.Random(0)
    samples = [sample for sample in (pool.crops.recombined(rng, sources) for _ in range(40)) if sample is not None]
    assert samples and all(line.source in sources for _, _, lines in samples for line in lines)
    assert pool.sources_for(3) == set(range(2, 10))  # a batch drawn late renders its forgotten sources again


def test_the_folds_labelled_images_stay_in_the_crop_pool_while_the_renders_slide(tmp_path):
    labelled = []
    for row, formulas in enumerate(["君=5;不=9;君/2+不+2+3", "不=41;君=8;(1-君/7)*不+6"]):
        path = tmp_path / f"{row}.png"
        cv2.imwrite(str(path), cv2.cvtColor(render_captcha(formulas, random.Random(row)).image, cv2.COLOR_RGB2BGR))
        labelled.append((str(path), formulas))
    pool = SlidingPool(seed=5, size=4, labelled=labelled)
    assert pool.window(0) == {0, 1, 2, 3} and pool.window(20) == {0, 1} | set(range(21, 25))
    pool.sources_for(20)
    assert {line.source for line, _ in pool.crops.expressions} >= {0, 1}


def test_a_new_worker_loads_the_pool_its_fit_stored_instead_of_rendering_it_again(tmp_path, monkeypatch):
    first = SlidingPool(seed=5, size=8, labelled=[], store=tmp_path)
    sources = first.sources_for(3)

    def no_rendering(*arguments):
        raise AssertionError("the pool rendered a source its fit had stored")

    monkeypatch.setattr(batches, "fresh_sample", no_rendering)
    second = SlidingPool(seed=5, size=8, labelled=[], store=tmp_path)  # Keras's worker of the next epoch
    assert second.sources_for(3) == sources
    assert [(line.text, line.crop.tobytes()) for line, _ in second.crops.expressions] == [
        (line.text, line.crop.tobytes()) for line, _ in first.crops.expressions]
    monkeypatch.undo()
    for index in range(4, 30):
        second.sources_for(index)
    assert {int(path.stem.split("-")[1]) for path in tmp_path.glob("source-*.npz")} == second.pooled  # old ones deleted
