"""The whole feature-head run as one Keras model: image -> backbone views -> fold heads -> fusion -> P(class 1), for
every kind of final candidate (a model on TTA views, a clipped model on flipped images, a blend, a stack).

(The export of a demo run's own final candidate is tested in tests/competitions/dogs/test_report.py.)
"""

import numpy as np
import pytest

from comp.vision.heads import pipeline_model
from tests.comp.vision.heads.conftest import run_with_final


@pytest.fixture(scope="module")
def images(tiny_dogs_test_paths):
    """The test images, each decoded at its own size as float RGB 0..255, shape (1, H, W, 3)."""
    import tensorflow as tf

    return [tf.cast(tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False), tf.float32)[None]
            for path in tiny_dogs_test_paths]


@pytest.mark.parametrize("final", ["logistic@squeezenet1_1.tta", "logistic@squeezenet1_1.flip+clip", "blend", "stack"])
def test_the_pipeline_of_each_kind_of_final_candidate_gives_the_runs_test_predictions(tiny_dogs_run, images, final,
                                                                                      tmp_path):
    model = pipeline_model(run_with_final(tiny_dogs_run, final, tmp_path))
    _, expected = tiny_dogs_run.load_predictions(final)
    predicted = [float(np.asarray(model(image))[0, 0]) for image in images]
    assert np.allclose(predicted, expected, atol=1e-5, rtol=0)
    if final.endswith("+clip"):
        margin = tiny_dogs_run.read_json("scores.json")["fusion"][final]["clip"][0]
        assert np.isclose(expected, margin).any() or np.isclose(expected, 1 - margin).any()  # the clip acts


def fused_candidates(run) -> list[str]:
    """The run's blend and stack, and each of them post-processed (temperature, thresholds), by name."""
    fusion = run.read_json("scores.json")["fusion"]
    return sorted(name for name in fusion if name.split("+")[0] in ("blend", "stack"))


@pytest.mark.parametrize("task", ["multiclass", "multilabel", "regression"])
def test_the_pipeline_of_every_fusion_of_every_task_type_gives_the_runs_test_predictions(tiny_task_runs, task,
                                                                                        tmp_path):
    import tensorflow as tf

    run = tiny_task_runs[task]
    names = fused_candidates(run)
    assert {"blend", "stack"} <= set(names)
    assert any("+" in name for name in names) == (task != "regression")  # temperature / thresholds; none for rmse
    paths = run.rows()["test"]["path"].tolist()[:4]
    images = [tf.cast(tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False),
                      tf.float32)[None] for path in paths]
    for name in names:
        model = pipeline_model(run_with_final(run, name, tmp_path / name))
        _, expected = run.load_predictions(name)
        predicted = np.concatenate([np.asarray(model(image)) for image in images])
        assert predicted.shape == ((4, 4) if task != "regression" else (4, 1)), name
        assert np.allclose(predicted.reshape(expected[:4].shape), expected[:4], atol=1e-5, rtol=1e-4), name
