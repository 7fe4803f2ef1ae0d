"""The no-code images competition reads Kaggle's usual layouts and infers the task, metric and submission format;
the mistakes a competitor makes in those files are one-line errors naming the class, id or column."""

from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from comp import CompError
from competitions.images.demo import write_demo
from competitions.images.reader import read_images

SHARED = Path(__file__).resolve().parents[3].parent / "shared"
TRASHNET = SHARED / "data" / "trashnet"


def image(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((8, 8, 3), 128, dtype=np.uint8))


def csv_layout(root: Path, train: dict, sample: pd.DataFrame | None = None, test_ids=("0001", "0002")) -> Path:
    """train.csv from ``train`` (columns), an image per id, test images, and the sample submission when given."""
    frame = pd.DataFrame(train)
    root.mkdir(parents=True, exist_ok=True)
    frame.to_csv(root / "train.csv", index=False)
    for identifier in frame.iloc[:, 0]:
        image(root / "train" / f"{identifier}.jpg")
    for identifier in test_ids:
        image(root / "test" / f"{identifier}.PNG")
    if sample is not None:
        sample.to_csv(root / "sample_submission.csv", index=False)
    return root


@pytest.mark.skipif(not TRASHNET.is_dir(), reason=f"../shared not present: needs {TRASHNET}")
def test_trashnet_is_a_six_class_log_loss_competition_with_string_ids():
    layout = read_images(TRASHNET, {})
    assert layout.explanation.startswith("multiclass, 6 classes, metric multi_logloss: sample_submission has one "
                                         "probability column per class")
    assert layout.task.classes == ("cardboard", "glass", "metal", "paper", "plastic", "trash")
    assert len(layout.train) == 1765 and len(layout.test) == 378
    assert layout.test["id"].iloc[0] == "0001" and layout.submission_columns[1:] == list(layout.task.classes)
    assert np.bincount(layout.targets).tolist() == [283, 348, 287, 416, 336, 95]


@pytest.mark.parametrize("task, config, expected", [
    ("multiclass", {}, "multiclass, 4 classes, metric multi_logloss"),
    ("multilabel", {}, "multilabel, 4 labels, metric f1_samples"),
    ("regression", {"task": "regression"}, "regression, metric rmse"),
    ("regression", {"metric": "qwk"}, "regression, metric qwk"),
])
def test_generated_demos_of_every_task_are_read_back_with_their_task(tmp_path, task, config, expected):
    layout = read_images(write_demo(tmp_path / task, n=32, seed=1, task=task), config)
    assert layout.explanation.startswith(expected)
    assert layout.task.check_targets(layout.targets, "demo") is not None


def test_class_folders_are_a_layout_too(tmp_path):
    for label in ("cat", "dog", "fox"):
        for number in range(3):
            image(tmp_path / "train" / label / f"{number}.jpeg")
    image(tmp_path / "test" / "7.jpg")
    layout = read_images(tmp_path, {})
    assert layout.task.kind == "multiclass" and layout.task.classes == ("cat", "dog", "fox")
    assert layout.train["id"].iloc[0] == "cat/0" and layout.test["id"].tolist() == ["7"]


def test_one_zero_one_column_per_label_is_multilabel(tmp_path):
    root = csv_layout(tmp_path, {"image_id": ["a", "b", "c"], "haze": [1, 0, 1], "water": [0, 0, 1]})
    layout = read_images(root, {})
    assert layout.task.kind == "multilabel" and layout.task.classes == ("haze", "water")
    assert layout.targets.tolist() == [[1, 0], [0, 0], [1, 1]] and layout.train["label"].tolist()[2] == "haze water"


def test_numbers_are_classes_unless_a_regression_metric_or_task_says_values(tmp_path):
    root = csv_layout(tmp_path, {"id": ["a", "b", "c", "d"], "grade": ["0", "2", "1", "2"]})
    assert read_images(root, {}).task.kind == "multiclass"
    assert read_images(root, {"metric": "qwk"}).task.kind == "regression"
    assert read_images(root, {"task": "regression"}).targets.tolist() == [0.0, 2.0, 1.0, 2.0]


def test_ids_stay_strings_and_columns_can_be_named(tmp_path):
    root = csv_layout(tmp_path, {"file": ["007", "010"], "kind": ["x", "y"], "note": ["p", "q"]})
    layout = read_images(root, {"id_column": "file", "label_column": "kind"})
    assert layout.train["id"].tolist() == ["007", "010"] and layout.task.classes == ("x", "y")


@pytest.mark.parametrize("train, sample, config, message", [
    ({"id": ["a", "b"], "label": ["cat", "cat"]}, None, {}, "every training image has the label 'cat'"),
    ({"id": ["a", "b"], "label": ["cat", ""]}, None, {}, "label column 'label' is empty for id 'b'"),
    ({"id": ["a", "b"], "label": ["cat", "dog"]},
     pd.DataFrame({"id": ["0001", "0002"], "cat": [0.5, 0.5], "cow": [0.5, 0.5]}), {},
     "column 'cow' is not a training class"),
    ({"id": ["a", "b"], "label": ["cat", "dog"]},
     pd.DataFrame({"id": ["0001", "0009"], "label": ["cat", "cat"]}), {}, "id '0009' has no image"),
    ({"id": ["a", "b"], "x": ["1", "2"], "y": ["3", "4"]}, None, {}, "must each hold 0/1"),
    ({"id": ["a", "b"], "label": ["cat", "dog"]}, None, {"metric": "nope"}, "unknown metric 'nope'; known:"),
])
def test_mistakes_in_the_files_are_one_line_errors_naming_the_culprit(tmp_path, train, sample, config, message):
    root = csv_layout(tmp_path, train, sample)
    with pytest.raises(CompError, match=message) as raised:
        read_images(root, config)
    assert "\n" not in str(raised.value)


def test_an_id_without_image_and_an_image_without_id_are_named(tmp_path):
    root = csv_layout(tmp_path, {"id": ["a", "b"], "label": ["cat", "dog"]})
    (root / "train" / "b.jpg").unlink()
    with pytest.raises(CompError, match="id 'b' has no image"):
        read_images(root, {})
    image(root / "train" / "b.jpg")
    image(root / "train" / "stray.jpg")
    with pytest.raises(CompError, match="image stray.jpg is not in train.csv"):
        read_images(root, {})
