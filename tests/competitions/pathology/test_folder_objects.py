"""``python -m competitions.pathology PREDICTED TRUTH`` prints the GlaS object scores beside pixel F1."""

import json
import shutil

import cv2
import numpy as np
import pytest

from competitions.pathology.__main__ import main
from competitions.pathology.demo import write_demo
from competitions.pathology.folder_objects import object_scores_of_folders, truth_objects


def test_the_command_line_prints_object_f1_dice_and_hausdorff_beside_pixel_f1(tmp_path, capsys):
    data = write_demo(tmp_path / "data", n=2, seed=0, n_test=4)
    truth_dir = data / "test" / "masks"
    shutil.copytree(truth_dir, tmp_path / "predicted")
    shutil.rmtree(data / "test" / "labels")  # truth objects: the masks' components, which the copies match exactly
    assert main([str(tmp_path / "predicted"), str(truth_dir)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["pixel_f1"] == 1.0 and scores["object_f1"] == 1.0 and scores["object_dice"] == 1.0
    assert scores["object_hausdorff"] == 0.0
    empty = tmp_path / "predicted" / "test_1.png"
    cv2.imwrite(str(empty), np.zeros_like(cv2.imread(str(empty), cv2.IMREAD_GRAYSCALE)))
    assert object_scores_of_folders(tmp_path / "predicted", truth_dir)["object_f1"] < 1.0


def test_truth_objects_come_from_the_outlines_beside_the_masks_when_there_are_some(tmp_path):
    data = write_demo(tmp_path / "data", n=2, seed=0, n_test=4)
    with_outlines = [path for path in sorted((data / "test" / "masks").glob("*.png"))
                     if (data / "test" / "labels" / f"{path.stem}.svg").is_file()]
    labels = truth_objects(with_outlines[0])
    assert labels.dtype == np.int32 and labels.max() >= 1
    (data / "test" / "labels" / f"{with_outlines[0].stem}.svg").unlink()
    assert set(np.unique(truth_objects(with_outlines[0]))) <= {0, 1}
    assert pytest.approx((labels > 0).mean(), abs=0.02) == (truth_objects(with_outlines[0]) > 0).mean()
