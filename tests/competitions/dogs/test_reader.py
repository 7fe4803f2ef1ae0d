import shutil

import pandas as pd
import pytest

from comp import CompError
from competitions.dogs.demo import write_demo
from competitions.dogs.reader import read_dataset


@pytest.fixture
def dogs_dir(tmp_path):
    return write_demo(tmp_path / "dogs", n=8, seed=0)


def test_reads_the_kaggle_layout(dogs_dir):
    dataset = read_dataset(dogs_dir)
    assert len(dataset.train) == 8 and dataset.train["label"].sum() == 4
    assert set(dataset.train["id"]) >= {"cat.0", "dog.3"}
    assert dataset.test["id"].tolist() == [1, 2]
    assert dataset.sample_submission["id"].tolist() == [1, 2]


def test_training_file_without_a_label_is_named(dogs_dir):
    shutil.copy(dogs_dir / "train" / "cat.0.jpg", dogs_dir / "train" / "bird.3.jpg")
    with pytest.raises(CompError, match=r"bird\.3\.jpg has no label"):
        read_dataset(dogs_dir)


@pytest.mark.parametrize("layout_fault, message", [
    ("missing_dir", "does not exist"),
    ("no_train", "has no train/ folder"),
    ("empty_train", "no training images"),
])
def test_layout_faults_say_what_layout_is_expected(dogs_dir, layout_fault, message):
    if layout_fault == "missing_dir":
        target = dogs_dir / "nowhere"
    elif layout_fault == "no_train":
        shutil.rmtree(dogs_dir / "train")
        target = dogs_dir
    else:
        for path in (dogs_dir / "train").iterdir():
            path.unlink()
        target = dogs_dir
    with pytest.raises(CompError, match=message) as error:
        read_dataset(target)
    assert "expected DIR/train/{cat,dog}.N.jpg" in str(error.value)


@pytest.mark.parametrize("rows, header, message", [
    ([1, 2, 3], ["id", "label"], "id 3 has no image in test/"),
    ([1, 1], ["id", "label"], "id 1 appears more than once"),
    ([1, 2], ["id", "p"], r"columns \['id', 'p'\]"),
    ([1], ["id", "label"], "test image 2 is not in the sample submission"),
])
def test_bad_sample_submission_names_the_first_offender(dogs_dir, rows, header, message):
    pd.DataFrame({header[0]: rows, header[1]: 0.5}).to_csv(dogs_dir / "sample_submission.csv", index=False)
    with pytest.raises(CompError, match=message):
        read_dataset(dogs_dir)
