"""A finished feature-head run applied to new images: its saved fold heads, each feature set's views (TTA), and the
recorded fusion; every candidate the run could have chosen predicts its own test images as in training."""

from pathlib import Path

import numpy as np

from comp.contract import predict_final
from comp.fusion import read_final
from comp.vision.features import extract, feature_requests, stack_columns
from comp.vision.heads import load_fold_heads
from competitions.dogs import DogsCompetition
from tests.comp.vision.heads.conftest import run_with_final


def test_load_fold_heads_gives_each_folds_saved_head_in_fold_order(tiny_dogs_run):
    scores = tiny_dogs_run.read_json("scores.json")
    name = "logistic@squeezenet1_1.orig"
    config = tiny_dogs_run.config()["config"]
    paths = tiny_dogs_run.rows()["train"]["path"].tolist()
    features = extract(paths, feature_requests(config), cache_dir=config["cache_dir"]).features
    orig = stack_columns(features, ["squeezenet1_1:orig"])
    fold_of_row = np.asarray(tiny_dogs_run.read_json("folds.json")["fold"])
    oof, _ = tiny_dogs_run.load_predictions(name)
    heads = load_fold_heads(tiny_dogs_run, scores, name)
    assert len(heads) == 2
    for fold, head in enumerate(heads):
        held_out = fold_of_row == fold
        assert np.allclose(head.predict_proba(orig[held_out]), oof[held_out], atol=1e-6)


def test_every_candidate_of_a_feature_head_run_predicts_its_test_images_as_in_training(tiny_dogs_run, tmp_path):
    scores = tiny_dogs_run.read_json("scores.json")
    names = [*scores["models"], *scores["fusion"]]
    assert {"logistic@squeezenet1_1.tta", "blend", "stack", "blend+clip", "stack+clip"} <= set(names)
    competition = DogsCompetition()
    config = tiny_dogs_run.config()["config"]
    new = competition.read_new(Path(config["data"]), config)  # the run's own test images, as new data
    order = tiny_dogs_run.rows()["test"]["id"].map({number: row for row, number in enumerate(new.test["id"])})
    for name in names:
        run = run_with_final(tiny_dogs_run, name, tmp_path / name)
        predicted = predict_final(competition, run, read_final(run), new)
        _, expected = tiny_dogs_run.load_predictions(name)
        assert predicted.shape == expected.shape == (10,), name
        assert np.allclose(predicted[order], expected, atol=1e-7, rtol=0), name  # float32 rounding
