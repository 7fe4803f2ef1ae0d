"""Bad inputs are named and counted as wrong, never a crash: a labels line without a value, a character outside the
alphabet, an image without a text region found, a file that is no image."""

import random
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from comp import CompError, Dataset
from competitions.captcha_final.formulas import make_label
from competitions.captcha_final.plugin import CaptchaFinalCompetition
from competitions.captcha_final.reader import BAD_LABEL, read_dataset
from competitions.captcha_final.renderer import render_captcha
from competitions.captcha_final.scoring import sequence_accuracy, value_accuracy
from competitions.captcha_final.strips import StripStore, strips_of_files

FORMULAS = ["君=5;君/2+1+2+3", "河=7;铁=120;85882*(河/76020-37023)-铁", "烟=1;2-烟/3+4*5"]


@pytest.fixture(scope="module")
def faulty_layout(tmp_path_factory):
    """0.png good; 1.png's line has no value; 2.png's line has an 'X'; 3.png is blank paper; 4.png is no image."""
    directory = tmp_path_factory.mktemp("faulty")
    rng = random.Random(1)
    for index, formulas in enumerate(FORMULAS):
        Image.fromarray(render_captcha(formulas, rng).image).save(directory / f"{index}.png")
    Image.new("RGB", (800, 400), (236, 230, 225)).save(directory / "3.png")
    (directory / "4.png").write_bytes(b"not a png at all")
    lines = [make_label(FORMULAS[0]), FORMULAS[1], "烟=1;2-烟/3+4*X 21.67", make_label(FORMULAS[0]),
             make_label(FORMULAS[2])]
    (directory / "labels.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return directory


def test_bad_labels_lines_are_named_and_their_images_get_a_label_nothing_reads(faulty_layout):
    dataset = read_dataset(faulty_layout)
    labels = dataset.train["label"].tolist()
    assert labels == [FORMULAS[0], BAD_LABEL, BAD_LABEL, FORMULAS[0], FORMULAS[2]]
    problems = dataset.inputs["bad_labels"]
    assert len(problems) == 2
    assert "labels.txt line 2 has no value" in problems[0]
    assert "labels.txt line 3 has the character 'X'" in problems[1]


def test_images_without_text_and_undecodable_files_are_named_and_read_as_nothing(faulty_layout):
    paths = [str(faulty_layout / f"{index}.png") for index in range(5)]
    store = StripStore(paths, workers=1)
    strips = store.get()
    assert strips.shape == (5, 80, 900, 1) and strips.dtype == np.uint8
    assert store.bad.tolist() == [False, False, False, True, True]
    assert "no text region found" in store.problems[paths[3]]
    assert "cannot be decoded" in store.problems[paths[4]]
    assert strips[0].max() > 0 and strips[3].max() == 0
    twice, problems = strips_of_files(paths * 4, workers=2)  # 20 files: two chunks, cropped in two processes
    assert np.array_equal(twice[:5, ..., np.newaxis], strips) and set(problems) == set(paths[3:])


def test_bad_rows_count_as_wrong_in_both_scores(faulty_layout):
    truth = read_dataset(faulty_layout).train["label"].to_numpy(dtype=str)
    readings = np.array([FORMULAS[0], FORMULAS[1], "烟=1;2-烟/3+4*5", "", ""])  # the last two: nothing read
    assert sequence_accuracy(truth, readings) == pytest.approx(0.2)
    assert value_accuracy(truth, readings) == pytest.approx(0.2)


def test_layout_faults_that_leave_nothing_to_read_are_one_line_errors(tmp_path):
    with pytest.raises(CompError, match="does not exist"):
        read_dataset(tmp_path / "nowhere")
    (tmp_path / "0.png").write_bytes(b"")
    with pytest.raises(CompError, match="labels.txt does not exist"):
        read_dataset(tmp_path)
    (tmp_path / "labels.txt").write_text(f"{make_label(FORMULAS[0])}\n{make_label(FORMULAS[0])}\n", encoding="utf-8")
    with pytest.raises(CompError, match="line 2 has no image"):
        read_dataset(tmp_path)


def test_one_fold_is_one_network_in_generated_mode_and_refused_with_labelled_data(faulty_layout):
    competition = CaptchaFinalCompetition()
    assert competition.fewest_folds({"data": "generated"}) == 1
    assert competition.fewest_folds({"data": str(faulty_layout)}) == 2
    labelled = read_dataset(faulty_layout)
    assert sorted(np.bincount(competition.folds(labelled, 2, seed=0))) == [2, 3]
    generated = Dataset(data_dir=Path("generated"), train=labelled.train, test=labelled.train[["id", "path"]],
                        inputs={"generated": True})
    assert competition.folds(generated, 1, seed=0).tolist() == [0] * 5
