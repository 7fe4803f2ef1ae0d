"""The layout N.png + labels.txt (+ test/): read right, and every fault one CompError naming the line or file."""

import shutil

import pytest

from comp import CompError
from competitions.captcha.demo import write_demo
from competitions.captcha.expressions import evaluate
from competitions.captcha.reader import read_dataset


@pytest.fixture(scope="module")
def demo_source(tmp_path_factory):
    return write_demo(tmp_path_factory.mktemp("captcha") / "data", n=6, seed=0, n_test=2)


@pytest.fixture
def captcha_dir(tmp_path, demo_source):
    return shutil.copytree(demo_source, tmp_path / "data")


def labels_file(directory):
    return directory / "labels.txt"


def rewrite_line(directory, number, text):
    lines = labels_file(directory).read_text().splitlines()
    lines[number - 1] = text
    labels_file(directory).write_text("\n".join(lines) + "\n")


def test_reads_images_in_numeric_order_with_their_labels(captcha_dir):
    for number in range(6, 11):
        shutil.copy(captcha_dir / "0.png", captcha_dir / f"{number}.png")
    with labels_file(captcha_dir).open("a") as labels:
        labels.write("1+2 3\n" * 5 + "\n\n")  # blank lines at the end are fine
    dataset = read_dataset(captcha_dir)
    assert dataset.train["id"].tolist() == list(range(11))
    assert dataset.train["path"].iloc[10].endswith("10.png")
    assert all(evaluate(label) == value for label, value in zip(dataset.train["label"], dataset.train["value"]))
    assert dataset.test["id"].tolist() == [0, 1]


def test_no_test_folder_means_an_empty_test_set(captcha_dir):
    shutil.rmtree(captcha_dir / "test")
    assert read_dataset(captcha_dir).test.empty


def test_fewer_lines_than_images_names_the_missing_line(captcha_dir):
    lines = labels_file(captcha_dir).read_text().splitlines()
    labels_file(captcha_dir).write_text("\n".join(lines[:4]) + "\n")
    with pytest.raises(CompError, match=r"labels\.txt line 5 is missing: it has 4 lines but .*4\.png needs line 5"):
        read_dataset(captcha_dir)


def test_more_lines_than_images_names_the_line_without_image(captcha_dir):
    (captcha_dir / "5.png").unlink()
    with pytest.raises(CompError, match=r"labels\.txt line 6 has no image .*5\.png"):
        read_dataset(captcha_dir)


@pytest.mark.parametrize("line, message", [
    ("(3-5)*2", r"line 3 has no value: '\(3-5\)\*2'"),
    ("(3-5)*2 -4 7", r"line 3 is '\(3-5\)\*2 -4 7'; expected '<expression> <value>'"),
    ("(3-5)/2 -1", r"line 3: expression '\(3-5\)/2' has the character '/'"),
    ("(3-5*2 -4", r"line 3: expression '\(3-5\*2' is malformed"),
    ("(3-5)*2 four", r"line 3: value 'four' is not an integer"),
    ("(3-5)*2 4", r"line 3: value 4 does not match \(3-5\)\*2 = -4"),
    ("", r"line 3 is empty"),
])
def test_bad_label_line_is_named(captcha_dir, line, message):
    rewrite_line(captcha_dir, 3, line)
    with pytest.raises(CompError, match=message):
        read_dataset(captcha_dir)


def test_layout_faults_name_the_file(captcha_dir, tmp_path):
    with pytest.raises(CompError, match="does not exist"):
        read_dataset(tmp_path / "nowhere")
    shutil.copy(captcha_dir / "0.png", captcha_dir / "first.png")
    with pytest.raises(CompError, match=r"first\.png is not named N\.png"):
        read_dataset(captcha_dir)
    (captcha_dir / "first.png").unlink()
    labels_file(captcha_dir).unlink()
    with pytest.raises(CompError, match=r"labels\.txt does not exist"):
        read_dataset(captcha_dir)
