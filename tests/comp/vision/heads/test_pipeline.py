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
