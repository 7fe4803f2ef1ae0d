"""The dogs run's report (calibration, then the shared confusion matrix, confidently wrong images and CAMs) and
its exported model."""

import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import report_images, run_comp

SHARED_SECTIONS = ("Models and fusion candidates (out-of-fold)", "Reference recipes vs the final model",
                   "Training curves", "Optuna history and parameter importances", "Blend weights", "Resolved config")
DOGS_SECTIONS = ("Calibration of the OOF predictions (before and after clipping)",
                 "Confusion matrix and per-class scores (OOF)", "The 16 most confidently wrong training images (OOF)",
                 "Class activation maps (test images)")


def test_the_report_written_by_train_has_every_section_and_every_image_decodes(dogs_demo_run):
    report = (dogs_demo_run / "report.html").read_text(encoding="utf-8")
    for title in SHARED_SECTIONS + DOGS_SECTIONS:
        assert f"<h2>{title}</h2>" in report, title
    final = json.loads((dogs_demo_run / "scores.json").read_text())["final"]["name"]
    assert f'<tr class="final"><td>{final}</td>' in report  # the chosen candidate is marked
    assert "RANDOM weights" in report and "Backbone squeezenet1_1" in report
    assert report.count("CAM of test") == 8  # 8 of the 10 test images, every one mapped
    images = report_images(dogs_demo_run / "report.html")
    assert len(images) > 8 + 4 and all(image is not None and image.size for image in images)
    assert "http://" not in report and "https://" not in report  # nothing to fetch: the page opens offline


def test_comp_report_rebuilds_the_page_and_refuses_a_directory_that_is_not_a_run(dogs_demo_run, tmp_path):
    (dogs_demo_run / "report.html").unlink()
    rebuilt = run_comp("report", str(dogs_demo_run))
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert rebuilt.stdout.strip() == str(dogs_demo_run / "report.html")
    assert "Class activation maps" in (dogs_demo_run / "report.html").read_text(encoding="utf-8")
    refused = run_comp("report", str(tmp_path))
    assert refused.returncode == 2
    assert refused.stderr.strip() == f"comp: error: {tmp_path} is not a run directory (no config.json)"


def decoded(path):
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    return tf.cast(image, tf.float32)[None].numpy()


@pytest.fixture(scope="module")
def sample_images(dogs_demo_run):
    """Three test images and the run's submitted P(dog) for them."""
    submission = pd.read_csv(dogs_demo_run / "submission.csv").head(3)
    paths = [dogs_demo_run.parent / "data" / "test" / f"{number}.jpg" for number in submission["id"]]
    return [decoded(path) for path in paths], submission["label"].to_numpy()


def test_comp_export_savedmodel_reproduces_the_runs_predictions(dogs_demo_run, sample_images, tmp_path):
    import tensorflow as tf

    out = tmp_path / "savedmodel"
    result = run_comp("export", str(dogs_demo_run), "--format", "savedmodel", "--out", str(out))
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == str(out)
    model = tf.saved_model.load(str(out))
    images, expected = sample_images
    predicted = [float(model.serve(image)[0, 0]) for image in images]  # each image at its own size
    assert np.allclose(predicted, expected, atol=1e-5)


def test_keras_and_tflite_exports_reproduce_the_runs_predictions(dogs_demo_run, sample_images, tmp_path):
    import keras
    import tensorflow as tf

    from comp.io import Run
    from comp.vision import export_run, register_custom_layers

    images, expected = sample_images
    run = Run.open(dogs_demo_run)
    register_custom_layers()
    model = keras.models.load_model(export_run(run, "keras", tmp_path / "dogs.keras"))
    assert np.allclose([float(model(image)[0, 0]) for image in images], expected, atol=1e-5)

    interpreter = tf.lite.Interpreter(model_path=str(export_run(run, "tflite")))
    assert (dogs_demo_run / "export" / "model.tflite").is_file()
    predicted = []
    for image in images:
        source, target = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        interpreter.resize_tensor_input(source["index"], image.shape)
        interpreter.allocate_tensors()
        interpreter.set_tensor(source["index"], image)
        interpreter.invoke()
        predicted.append(float(interpreter.get_tensor(target["index"])[0, 0]))
    assert np.allclose(predicted, expected, atol=1e-5)
