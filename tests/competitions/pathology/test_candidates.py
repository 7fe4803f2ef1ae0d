"""The post-processed candidates of a run: the chain fitted on OOF maps only (test masks are scored, never fitted on),
object scores beside pixel F1, and the test prediction from the all-rows fit."""

from dataclasses import replace
from pathlib import Path

import numpy as np

from comp.contract import Dataset, TrainingContext
from comp.fusion import Candidate
from comp.io import Run
from competitions.pathology import PathologyCompetition
from competitions.pathology.candidates import map_candidates, postprocessed_candidate
from competitions.pathology.demo import write_demo
from competitions.pathology.reader import read_dataset
from competitions.pathology.slides import Geometry, Slides


def context_for(data: Path, test_outlines: bool) -> TrainingContext:
    """A training context over the demo slides, with or without the test slides' outlines."""
    dataset = read_dataset(data)
    train = Slides.load(dataset.train["path"], dataset.train["svg"].replace("", None))
    test_svgs = dataset.test["svg"].replace("", None) if test_outlines else None
    test = Slides.load(dataset.test["path"], test_svgs)
    inputs = {"train_slides": train, "test_slides": test}
    return TrainingContext(Dataset(data, dataset.train, dataset.test, inputs=inputs),
                           {"scale": 0.5, "postprocessing_metric": "pixel_f1"}, run=None, cache_dir=data)


def noisy_maps(slides: Slides, seed: int) -> list[np.ndarray]:
    """Probability maps at scale 0.5: the true masks blurred by noise."""
    rng = np.random.default_rng(seed)
    return [np.clip(0.25 + 0.5 * mask + rng.normal(0, 0.2, mask.shape), 0, 1).astype(np.float32)
            for mask in slides.masks(Geometry(scale=0.5))]


def test_the_chain_fitted_on_oof_never_sees_test_masks(tmp_path):
    data = write_demo(tmp_path / "data", n=6, seed=0, n_test=2)
    with_truth, without_truth = context_for(data, True), context_for(data, False)
    oof = noisy_maps(with_truth.dataset.inputs["train_slides"], 0)
    test = noisy_maps(with_truth.dataset.inputs["test_slides"], 1)
    fold_of_row = np.array([0, 1, 0, 1, 0, 1])
    labels = np.zeros(6, dtype=int)
    scored, blind = (postprocessed_candidate("model", oof, test, context, PathologyCompetition.metric, labels, fold_of_row, {})
                     for context in (with_truth, without_truth))
    assert scored.details["chain"] == blind.details["chain"]  # the test outlines changed nothing that was fitted
    np.testing.assert_array_equal(scored.test, blind.test)
    assert "test_scores" in scored.details and "test_scores" not in blind.details
    for scores in (scored.details["oof_scores"], scored.details["test_scores"]):
        assert set(scores) == {"pixel_f1", "object_f1", "object_dice", "object_hausdorff"}
    assert scored.score == scored.details["oof_scores"]["pixel_f1"]  # exact pixel F1 at the original size
    assert scored.details["effects"][0]["step"] == "threshold"
    assert scored.oof.shape == (6, 2, 256) and scored.test.shape[0] == 2


def test_a_run_whose_folds_kept_no_held_out_maps_gets_no_map_candidates_and_a_warning(tmp_path, caplog):
    data = write_demo(tmp_path / "data", n=4, seed=0, n_test=2)
    context = context_for(data, True)
    run = Run.create(tmp_path, "pathology", tmp_path / "run")
    run.write_json("scores.json", {"models": {"unet": {"params_key": "old"}}})
    (run.path / "fold_cache" / "unet" / "old" / "fold0" / "model").mkdir(parents=True)
    context = replace(context, run=run)
    model = Candidate("unet", np.zeros((4, 2, 256)), np.zeros((2, 96, 128), dtype=np.float16), 0.0, [])
    assert map_candidates([model], np.zeros(4), np.array([0, 1, 0, 1]), context, PathologyCompetition.metric) == []
    assert "no held-out map of training slide 0" in caplog.text
