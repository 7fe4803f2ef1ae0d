"""Class activation maps: a linear head as a 1x1 convolution over the backbone's last feature map, laid over images."""

import html
import shutil

import numpy as np
import pytest

from comp.io import Run
from comp.report import evenly_spaced_rows
from comp.tasks import Task
from comp.vision import cam_section
from comp.vision.features import extract, feature_requests
from comp.vision.heads import activation_maps, cam_source, class_activation_map, class_evidence, colour, overlay


def test_cam_is_the_feature_map_weighted_by_the_head_a_1x1_convolution():
    feature_map = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)
    weights, bias = np.array([1.0, 0.0, -1.0, 0.5]), 0.25
    activation = class_activation_map(feature_map, weights, bias)
    expected = [[sum(feature_map[i, j, c] * weights[c] for c in range(4)) + bias for j in range(3)] for i in range(2)]
    assert activation.shape == (2, 3) and np.allclose(activation, expected)


def test_with_average_pooling_the_mean_of_the_map_is_the_heads_logit_on_the_pooled_features():
    rng = np.random.default_rng(0)
    feature_map, weights, bias = rng.normal(size=(7, 5, 16)), rng.normal(size=16), -0.3
    pooled_logit = feature_map.mean(axis=(0, 1)) @ weights + bias
    assert np.isclose(class_activation_map(feature_map, weights, bias).mean(), pooled_logit)


@pytest.mark.parametrize("feature_map, weights", [(np.zeros((2, 3, 4)), np.zeros(3)),  # channels differ
                                                  (np.zeros((3, 4)), np.zeros(4))])  # not (h, w, C)
def test_a_feature_map_that_does_not_fit_the_head_is_a_value_error(feature_map, weights):
    with pytest.raises(ValueError, match="does not match"):
        class_activation_map(feature_map, weights)


def test_the_map_is_coloured_red_for_evidence_of_class_1_and_blue_against_and_laid_over_the_image():
    activation = np.array([[-2.0, 0.0, 2.0]])
    colours = colour(activation).astype(int)[0]
    assert colours[0, 2] > colours[0, 0] and colours[2, 0] > colours[2, 2]  # blue at -2, red at +2
    image = np.full((30, 60, 3), 128, dtype=np.uint8)
    laid = overlay(image, activation)
    assert laid.shape == image.shape and laid.dtype == np.uint8
    assert laid[15, 55, 0] > laid[15, 55, 2] and laid[15, 4, 2] > laid[15, 4, 0]


def test_the_source_of_the_maps_is_the_best_linear_head_on_one_backbone_with_each_folds_weights(tiny_dogs_run):
    scores = tiny_dogs_run.read_json("scores.json")["models"]
    source = cam_source(tiny_dogs_run)
    assert source.model == min(scores, key=lambda name: scores[name]["score"])  # log loss: lower is better
    assert (source.head, source.backbone) == ("logistic", "squeezenet1_1")
    assert len(source.fold_weights) == 2
    assert all(weights.shape == (512,) and isinstance(bias, float) for weights, bias in source.fold_weights)


def test_a_run_without_average_pooling_has_no_source_of_maps(tiny_dogs_run, tmp_path):
    run = Run(shutil.copytree(tiny_dogs_run.path, tmp_path / "run"))
    saved = run.config()
    run.write_json("config.json", {**saved, "config": {**saved["config"], "pooling": "avgmax"}})
    assert cam_source(run) is None


def test_each_maps_mean_is_the_fold_heads_mean_logit_on_that_images_pooled_features(tiny_dogs_run,
                                                                                     tiny_dogs_test_paths,
                                                                                     tmp_path):
    source = cam_source(tiny_dogs_run)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    paths = [*tiny_dogs_test_paths[:3], str(broken)]
    maps = activation_maps(tiny_dogs_run, source, paths)
    assert maps[3] is None  # an unreadable image has no map
    config = tiny_dogs_run.config()["config"]
    features = extract(tiny_dogs_test_paths[:3], feature_requests(config), cache_dir=config["cache_dir"]).features
    pooled = np.asarray(features["squeezenet1_1:orig"])
    logits = np.mean([pooled @ weights + bias for weights, bias in source.fold_weights], axis=0)
    assert all(activation.ndim == 2 and activation.shape[0] > 1 for activation in maps[:3])
    assert np.allclose([activation.mean() for activation in maps[:3]], logits, rtol=1e-4, atol=1e-4)


def test_a_softmax_heads_evidence_for_a_class_ignores_what_every_class_shares():
    rng = np.random.default_rng(1)
    logit_maps = rng.normal(size=(3, 4, 5))
    shifted = logit_maps + rng.normal(size=(3, 4, 1))  # the same value added to every class: the softmax is unchanged
    assert np.allclose(class_evidence(logit_maps, 2), class_evidence(shifted, 2))
    assert np.allclose(class_evidence(logit_maps, 2), logit_maps[..., 2] - logit_maps.mean(axis=-1))


def test_a_multiclass_runs_maps_have_one_layer_per_class_whose_means_are_the_heads_logits(tiny_task_runs):
    run = tiny_task_runs["multiclass"]
    source = cam_source(run)
    assert source is not None and all(weights.shape == (512, 4) and bias.shape == (4,)
                                      for weights, bias in source.fold_weights)
    paths = run.rows()["test"]["path"].tolist()[:2]
    maps = activation_maps(run, source, paths)
    config = run.config()["config"]
    pooled = np.asarray(extract(paths, feature_requests(config), cache_dir=config["cache_dir"])
                        .features["squeezenet1_1:orig"])
    logits = np.mean([pooled @ weights + bias for weights, bias in source.fold_weights], axis=0)  # (2, 4)
    assert all(activation.shape[-1] == 4 for activation in maps)
    assert np.allclose([activation.mean(axis=(0, 1)) for activation in maps], logits, rtol=1e-4, atol=1e-4)


def test_the_report_maps_the_predicted_class_of_each_test_image_and_the_configured_class(tiny_task_runs):
    run = tiny_task_runs["multiclass"]
    task = Task("multiclass", tuple(run.read_json("scores.json")["task"]["classes"]))
    test = run.rows()["test"]
    plain = cam_section(run, task, test)
    source = cam_source(run)
    predicted = run.load_predictions(source.model)[1].argmax(axis=1)
    shown = [int(row) for row in evenly_spaced_rows(len(test), 8)]  # the section maps 8 test images
    assert plain.body.count("CAM of test") == len(shown)
    for row in shown:
        assert f"evidence for {task.classes[predicted[row]]}" in plain.body
    chosen = cam_section(run, task, test, chosen=task.classes[0])
    assert chosen.body.count("CAM of test") == 2 * len(shown)
    assert chosen.body.count(f"evidence for {task.classes[0]}") >= len(shown)
    refused = cam_section(run, task, test, chosen="dragon")
    assert "No maps: cam_class 'dragon' is not a class of this run; its classes: circle," in html.unescape(refused.body)
