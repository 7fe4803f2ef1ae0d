"""`comp predict dogs` is the contract's default: the run's fold heads on new images reproduce its submission."""

import shutil

import pytest

from comp.errors import CompError
from comp.io import Run
from competitions.dogs import DogsCompetition


@pytest.fixture
def dogs_cache(dogs_demo_run, monkeypatch):
    """The demo run's feature cache, so its test images are not extracted again."""
    monkeypatch.setenv("COMP_CACHE_DIR", str(dogs_demo_run.parent / "cache"))


def test_predicting_the_test_images_writes_the_runs_own_submission(dogs_demo_run, dogs_cache):
    run = Run.open(dogs_demo_run)
    written = DogsCompetition().predict(run, dogs_demo_run.parent / "data", None)
    assert written == run.file("predictions.csv")
    assert written.read_bytes() == run.file("submission.csv").read_bytes()  # id,label in id order, same P(dog)


def test_a_flat_folder_of_images_is_predicted_into_the_named_file(dogs_demo_run, dogs_cache, tmp_path):
    flat = shutil.copytree(dogs_demo_run.parent / "data" / "test", tmp_path / "images")
    out = tmp_path / "out" / "flat.csv"
    assert DogsCompetition().predict(Run.open(dogs_demo_run), flat, out) == out
    assert out.read_bytes() == (dogs_demo_run / "submission.csv").read_bytes()


def test_an_unreadable_new_image_stops_the_prediction_with_one_line_naming_it(dogs_demo_run, dogs_cache, tmp_path):
    flat = shutil.copytree(dogs_demo_run.parent / "data" / "test", tmp_path / "images")
    (flat / "999.jpg").write_bytes(b"not a picture")
    with pytest.raises(CompError) as error:
        DogsCompetition().predict(Run.open(dogs_demo_run), flat, tmp_path / "out.csv")
    assert "1 test image(s) cannot be decoded" in str(error.value) and str(flat / "999.jpg") in str(error.value)
    assert "\n" not in str(error.value) and not (tmp_path / "out.csv").exists()
