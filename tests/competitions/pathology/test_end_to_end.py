"""`comp demo pathology` then a tiny `comp train pathology`: masks at the original size, the CSV and the zip."""

import json
import zipfile

import cv2
import pandas as pd
import pytest

from comp.errors import CompError
from competitions.pathology import PathologyCompetition
from competitions.pathology.demo import HEIGHT, WIDTH, write_demo
from tests.conftest import run_comp


def test_demo_writes_the_real_layout(tmp_path):
    result = run_comp("demo", "pathology", "--out", str(tmp_path), "--n", "6", "--seed", "3")
    assert result.returncode == 0, result.stderr[-2000:]
    data = tmp_path / "pathology"
    images = sorted(path.stem for path in (data / "train" / "image").glob("*.tiff"))
    assert len(images) == 6 and len(list((data / "test" / "image").glob("*.tiff"))) == 2
    assert {path.stem for path in (data / "train" / "labels").glob("*.svg")} <= set(images)
    image = cv2.imread(str(data / "train" / "image" / "train_1.tiff"))
    assert image.shape == (HEIGHT, WIDTH, 3)


def test_tiny_training_writes_masks_csv_and_zip(pathology_demo_run):
    run_dir = pathology_demo_run
    scores = json.loads((run_dir / "scores.json").read_text())
    assert scores["metric"] == "pixel_f1" and scores["direction"] == "maximize"
    assert 0 <= scores["models"]["unet"]["score"] <= 1
    assert 0.05 <= scores["fusion"]["unet+threshold"]["threshold"] <= 0.95
    submission = pd.read_csv(run_dir / "submission.csv", dtype={"id": str})
    assert list(submission.columns) == ["id", "cancer_probability", "cancer_fraction"]
    assert submission["id"].tolist() == ["test_1", "test_2", "test_3"]
    assert submission[["cancer_probability", "cancer_fraction"]].stack().between(0, 1).all()
    published = run_dir.parent / "submissions" / "pathology" / "run"
    for identifier in submission["id"]:
        mask = cv2.imread(str(published / "masks" / f"{identifier}.png"), cv2.IMREAD_UNCHANGED)
        assert mask.shape == (HEIGHT, WIDTH) and set(mask.ravel().tolist()) <= {0, 255}
    assert (published / "submission.csv").read_text() == (run_dir / "submission.csv").read_text()
    with zipfile.ZipFile(run_dir.parent / "submissions" / "pathology" / "run.zip") as bundle:
        assert set(bundle.namelist()) == {"submission.csv", *(f"masks/{i}.png" for i in submission["id"])}


@pytest.mark.parametrize("damage", ["tiff", "orphan_svg"])
def test_unreadable_slide_or_orphan_outline_is_named(tmp_path, damage):
    data = write_demo(tmp_path / "data", n=4, seed=0)
    if damage == "tiff":
        culprit = data / "train" / "image" / "train_2.tiff"
        culprit.write_bytes(b"not an image")
    else:
        culprit = data / "train" / "labels" / "train_99.svg"
        culprit.write_text("<svg/>")
    with pytest.raises(CompError) as error:
        competition = PathologyCompetition()  # the U-Net alone: no encoder weights to resolve first
        competition.read(data, {**competition.default_config(), "models": ["unet"]})
    assert str(culprit) in str(error.value) and "\n" not in str(error.value)


def test_tiny_training_records_object_scores_and_the_fitted_chain_in_scores_json(pathology_demo_run):
    scores = json.loads((pathology_demo_run / "scores.json").read_text())
    processed = scores["fusion"]["unet+postprocessing"]
    for part in ("oof_scores", "test_scores"):  # the demo's test slides have outlines: scored, never fitted on
        assert set(processed[part]) == {"pixel_f1", "object_f1", "object_dice", "object_hausdorff"}
    assert processed["score"] == pytest.approx(processed["oof_scores"]["pixel_f1"])
    assert [effect["step"] for effect in processed["effects"]] == ["threshold", "opening", "closing", "fill_holes",
                                                                   "min_size", "watershed"]
    assert len(processed["fold_chains"]) == 2 and set(processed["chain"]) == set(processed["fold_chains"][0])
