"""The post-processing chain fitted on OOF: held-out masks never choose their own fold's parameters, a step is kept
only when it improves the metric, and the per-step OOF effects."""

import numpy as np
import pytest

from competitions.pathology.objects import object_f1, object_labels
from competitions.pathology.postprocessing import (
    OBJECT_F1,
    OFF,
    STEPS,
    apply_chain,
    fit_postprocessing,
)
from competitions.pathology.scoring import pixel_f1_of_mask_sets

SHAPE = (40, 40)
ONLY = {"opening": (), "closing": (), "fill_holes": (), "min_size": (), "watershed": ()}  # every mask step off


def bumps(centres, sigma: float = 6.0) -> np.ndarray:
    """(40, 40) probability map: the highest of Gaussian bumps of height 1 at the (row, column) centres."""
    rows, columns = np.mgrid[:SHAPE[0], :SHAPE[1]]
    return np.max([np.exp(-((rows - row) ** 2 + (columns - column) ** 2) / (2 * sigma ** 2))
                   for row, column in centres], axis=0)


def slides(n: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [bumps(rng.integers(8, 32, size=(2, 2))) for _ in range(n)]


def test_a_held_out_folds_masks_never_choose_its_own_parameters():
    maps = slides(10, seed=0)
    folds = np.array([0] * 6 + [1] * 2 + [2] * 2)
    truths = [probability_map >= 0.5 for probability_map in maps]
    fitted = fit_postprocessing(maps, truths, folds, grids=ONLY)
    # fold 0's true glands made larger: they now call for a lower threshold
    changed_truths = [probability_map >= (0.3 if fold == 0 else 0.5) for probability_map, fold in zip(maps, folds)]
    changed = fit_postprocessing(maps, changed_truths, folds, grids=ONLY)
    assert changed.params["threshold"] < fitted.params["threshold"] == 0.5  # the masks matter where they are fitted
    assert changed.fold_params[0] == fitted.fold_params[0]  # but fold 0's own parameters never saw them
    for row in np.flatnonzero(folds == 0):
        assert (changed.oof[row] == fitted.oof[row]).all()
    for fold, params in enumerate(changed.fold_params):  # each fold's rows went through that fold's chain
        held_out = np.flatnonzero(folds == fold)
        for row, mask in zip(held_out, apply_chain(np.array(maps)[held_out], params)):
            assert (changed.oof[row] == mask).all()


def test_a_step_is_kept_only_when_it_improves_the_oof_metric():
    maps = slides(8, seed=1)
    folds = np.arange(8) % 2
    truths = [probability_map >= 0.5 for probability_map in maps]
    clean = fit_postprocessing(maps, truths, folds, grids={"opening": (1,), "min_size": (2,), "watershed": (4,)})
    assert clean.params == OFF and all(params == OFF for params in clean.fold_params)
    assert clean.score == clean.unprocessed_score == 1.0
    noisy = []
    for index, probability_map in enumerate(maps):
        probability_map = probability_map.copy()
        probability_map[0, index * 4] = probability_map[39, 39 - index * 4] = 0.9  # specks of false positives
        noisy.append(probability_map)
    fitted = fit_postprocessing(noisy, truths, folds, grids={**ONLY, "min_size": (2, 1000)})
    assert fitted.params == {**OFF, "min_size": 2}  # 1000 would remove the glands too
    assert fitted.unprocessed_score < fitted.score == 1.0


def test_the_effects_table_has_each_steps_oof_pixel_and_object_f1_before_and_after():
    maps = slides(8, seed=2)
    folds = np.arange(8) % 2
    truths = [probability_map >= 0.55 for probability_map in maps]
    fitted = fit_postprocessing(maps, truths, folds, grids=ONLY)
    assert [row["step"] for row in fitted.effects] == list(STEPS)
    threshold = fitted.effects[0]
    assert threshold["fold_values"] == [params["threshold"] for params in fitted.fold_params]
    assert threshold["pixel_f1_before"] == pytest.approx(
        pixel_f1_of_mask_sets(truths, [probability_map >= 0.5 for probability_map in maps]))
    assert threshold["pixel_f1_after"] > threshold["pixel_f1_before"]
    for before, after in zip(fitted.effects, fitted.effects[1:]):
        assert after["pixel_f1_before"] == before["pixel_f1_after"]
        assert after["pixel_f1_after"] == after["pixel_f1_before"]  # every mask step off
    assert fitted.effects[-1]["pixel_f1_after"] == pytest.approx(fitted.score)
    assert fitted.effects[-1]["object_f1_after"] == pytest.approx(object_f1(truths, fitted.oof))


def test_with_object_f1_as_the_metric_the_watershed_splits_touching_glands():
    truths, maps = [], []
    for offset in range(4):
        truth = np.zeros(SHAPE, dtype=np.uint8)  # a label image: two glands that touch
        rows, columns = np.mgrid[:SHAPE[0], :SHAPE[1]]
        truth[(rows - 20) ** 2 + (columns - 10 - offset) ** 2 <= 64] = 1
        truth[((rows - 20) ** 2 + (columns - 24 - offset) ** 2 <= 64) & (truth == 0)] = 2
        truths.append(truth)
        maps.append(np.where(truth > 0, 0.9, 0.1))
    assert object_labels(maps[0] >= 0.5)[1] == 1
    fitted = fit_postprocessing(maps, truths, np.arange(4) % 2, metric=OBJECT_F1,
                                grids={**ONLY, "watershed": (4,)})
    assert fitted.params["watershed"] == 4 and fitted.metric == "object_f1"
    # merged, each pair is one object covering all of one gland: 1 true positive and 1 missed gland per image
    assert fitted.unprocessed_score == pytest.approx(2 / 3) and fitted.score == 1.0
    assert fitted.effects[-1]["pixel_f1_after"] < 1.0  # the line between them costs pixels: pixel F1 would refuse it


def test_rows_that_do_not_fit_are_refused():
    maps = slides(4, seed=3)
    truths = [probability_map >= 0.5 for probability_map in maps]
    with pytest.raises(ValueError, match="same"):
        fit_postprocessing(maps, [truth[:, :-1] for truth in truths], np.arange(4) % 2)
    with pytest.raises(ValueError, match="one of each per slide"):
        fit_postprocessing(maps, truths[:3], np.arange(4) % 2)
    with pytest.raises(ValueError, match="at least two folds"):
        fit_postprocessing(maps, truths, np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match="unknown steps"):
        fit_postprocessing(maps, truths, np.arange(4) % 2, grids={"dilation": (1,)})
