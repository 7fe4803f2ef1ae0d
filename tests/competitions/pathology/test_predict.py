"""`comp predict pathology`: the run's fold networks on new slides reproduce its own submission masks."""

import shutil
from dataclasses import replace

import cv2
import numpy as np
import pandas as pd
import pytest

from comp.errors import CompError
from comp.fusion import read_final
from comp.io import Run
from competitions.pathology import PathologyCompetition
from competitions.pathology.inference import final_maps, slide_paths
from competitions.pathology.slides import Slides
from tests.conftest import run_comp


def test_predicting_the_test_images_reproduces_the_submission(pathology_demo_run):
    data = pathology_demo_run.parent / "data" / "test"
    result = run_comp("predict", "pathology", "--run", str(pathology_demo_run), "--data", str(data))
    assert result.returncode == 0, result.stderr[-3000:]
    assert str(pathology_demo_run / "predictions.csv") in result.stdout
    predicted = pd.read_csv(pathology_demo_run / "predictions.csv", dtype={"id": str})
    submitted = pd.read_csv(pathology_demo_run / "submission.csv", dtype={"id": str})
    assert predicted["id"].tolist() == submitted["id"].tolist() == ["test_1", "test_2", "test_3"]
    assert np.allclose(predicted.iloc[:, 1:], submitted.iloc[:, 1:], atol=1e-6)
    for identifier in submitted["id"]:
        mask = cv2.imread(str(pathology_demo_run / "predictions_masks" / f"{identifier}.png"), cv2.IMREAD_UNCHANGED)
        expected = cv2.imread(str(pathology_demo_run / "masks" / f"{identifier}.png"), cv2.IMREAD_UNCHANGED)
        assert mask.shape == expected.shape and np.array_equal(mask, expected), identifier


def test_a_flat_folder_is_predicted_into_the_named_file(pathology_demo_run, tmp_path):
    flat = tmp_path / "slides"
    shutil.copytree(pathology_demo_run.parent / "data" / "test" / "image", flat)
    out = tmp_path / "out" / "flat.csv"
    written = PathologyCompetition().predict(Run.open(pathology_demo_run), flat, out)
    assert written == out and pd.read_csv(out)["id"].tolist() == ["test_1", "test_2", "test_3"]
    for identifier in ("test_1", "test_2", "test_3"):
        assert np.array_equal(cv2.imread(str(tmp_path / "out" / "flat_masks" / f"{identifier}.png")),
                              cv2.imread(str(pathology_demo_run / "masks" / f"{identifier}.png")))


@pytest.mark.parametrize("damage, expected", [("empty", "no TIFF images in"), ("tiff", "cannot read the image")])
def test_bad_prediction_folders_are_named(pathology_demo_run, tmp_path, damage, expected):
    folder = tmp_path / "slides"
    folder.mkdir()
    culprit = folder
    if damage == "tiff":
        culprit = folder / "broken.tiff"
        culprit.write_bytes(b"not an image")
    with pytest.raises(CompError) as error:
        PathologyCompetition().predict(Run.open(pathology_demo_run), folder, tmp_path / "out.csv")
    assert expected in str(error.value) and str(culprit) in str(error.value) and "\n" not in str(error.value)


def test_a_postprocessed_final_candidate_is_predicted_through_its_fitted_chain(pathology_demo_run):
    run = Run.open(pathology_demo_run)
    final = read_final(run)
    name = "unet+postprocessing"
    processed = replace(final, name=name, base="unet", kind="model", members=["unet"],
                        postprocessing="postprocessing", details=final.scores["fusion"][name])
    slides = Slides.load(slide_paths(pathology_demo_run.parent / "data" / "test"))
    np.testing.assert_array_equal(final_maps(run, processed, slides), np.load(run.file("test", f"{name}.npy")))
