"""Inputs that used to be checked only when their stage was reached (or never): each is now one line before any work,
and a refused run leaves no run directory behind."""

import logging

import cv2
import numpy as np
import pandas as pd
import pytest

from competitions.captcha_final.demo import write_demo as write_captcha_final_demo
from competitions.dogs.demo import write_demo
from competitions.dogs.reader import read_dataset
from competitions.pathology.demo import write_demo as write_pathology_demo
from competitions.pathology.slides import Slides
from competitions.pathology.svg import polygons_svg
from tests.faults.conftest import QUICK_CONFIG, comp_in_process, one_line_error


def with_setting(line: str) -> str:
    """QUICK_CONFIG with ``line`` (``key = value``) replacing that key's line, or added when QUICK_CONFIG has none."""
    key = line.split("=")[0].strip()
    kept = [text for text in QUICK_CONFIG.splitlines() if text.split("=")[0].strip() != key]
    at = kept.index("[weights]")
    return "\n".join([*kept[:at], line, *kept[at:]]) + "\n"


def refused(tmp_path, data, *flags, config=QUICK_CONFIG, env=None):
    """The one error line of ``comp train dogs`` on ``data``; the run directory it was to write must not exist."""
    (tmp_path / "quick.toml").write_text(config)
    result = comp_in_process("train", "dogs", "--data", str(data), "--config", str(tmp_path / "quick.toml"), *flags,
                             "--out", str(tmp_path / "run"), env={"COMP_CACHE_DIR": str(tmp_path / "cache"),
                                                                  **(env or {})})
    line = one_line_error(result)
    assert not (tmp_path / "run").exists(), f"a stub run directory was left: {line}"
    return line


@pytest.mark.parametrize("setting, expected", [
    ('folds = "two"', ["`folds`", "quick.toml", "'two'", "an integer"]),
    ('heads = ["nope"]', ["`heads`", "quick.toml", "'nope'", "logistic"]),
    ("fold = 3", ["`fold`", "quick.toml", "not a known key", "`folds`"]),
])
def test_a_config_value_of_the_wrong_type_or_an_unknown_name_is_one_line_naming_the_key_and_file(
        tmp_path, setting, expected):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    line = refused(tmp_path, data, config=with_setting(setting))
    assert all(text in line for text in expected), line


@pytest.mark.parametrize("flags, expected", [
    (["--trials", "-3"], "--trials is -3; it must be at least 0"),
    (["--folds", "1"], "--folds is 1; it must be at least 2"),
    (["--backbones", "squeezenet1_1,squeezenet1_1"], "--backbones names squeezenet1_1 more than once"),
])
def test_out_of_range_flags_and_repeated_backbones_are_refused_before_any_work(tmp_path, flags, expected):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    assert expected in refused(tmp_path, data, *flags)


def test_a_training_set_of_one_class_names_the_class_and_its_count(tmp_path):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    for dog in (data / "train").glob("dog.*"):
        dog.unlink()
    assert "only class cat (4 images)" in refused(tmp_path, data)


def test_too_few_images_of_a_class_for_the_folds_names_the_class_count_and_need(tmp_path):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    for extra in ("dog.1.jpg", "dog.2.jpg", "dog.3.jpg"):
        (data / "train" / extra).unlink()
    assert "class dog has 1 training image(s); --folds 2 needs at least 2" in refused(tmp_path, data)


def test_an_early_stopping_split_too_small_for_every_class_says_how_many_images_are_needed(tmp_path):
    data = write_demo(tmp_path / "dogs", n=20, seed=0)
    line = refused(tmp_path, data, config=with_setting('heads = ["logistic", "dense"]'))
    assert "early stopping holds out 10% of a fold's 10 training images (1)" in line
    assert "use at least 22 images at --folds 2" in line


def test_a_sample_submission_id_that_is_not_a_whole_number_is_refused(tmp_path):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    pd.DataFrame({"id": [1.5, 2], "label": 0.5}).to_csv(data / "sample_submission.csv", index=False)
    assert "id 1.5 is not an integer" in refused(tmp_path, data)


def test_two_test_files_with_one_id_are_both_named_before_training(tmp_path):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    (data / "test" / "001.jpg").write_bytes((data / "test" / "1.jpg").read_bytes())
    line = refused(tmp_path, data)
    assert str(data / "test" / "1.jpg") in line and str(data / "test" / "001.jpg") in line


def test_missing_fcn8s_encoder_weights_stop_pathology_before_the_first_fit(tmp_path):
    data = write_pathology_demo(tmp_path / "slides", n=4, seed=0)
    config = ('folds = 2\nmodels = ["unet", "fcn8s"]\n[unet]\ntile = 32\nwidths = "4-8"\nepochs = 1\n'
              'steps_per_epoch = 1\n')
    (tmp_path / "tiny.toml").write_text(config)
    result = comp_in_process("train", "pathology", "--data", str(data), "--config", str(tmp_path / "tiny.toml"),
                             "--out", str(tmp_path / "run"),
                             env={"KERAS_HOME": str(tmp_path / "keras"), "COMP_WEIGHTS_DIR": str(tmp_path / "none")})
    line = one_line_error(result)
    assert "squeezenet_v1.1_imagenet_notop.h5" in line and "--weights squeezenet1_1=PATH" in line
    assert not (tmp_path / "run").exists()  # no U-Net fold was trained first


def test_a_dangling_link_in_train_is_counted_among_the_dropped_files(tmp_path):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    link = data / "train" / "cat.50.jpg"
    link.symlink_to(tmp_path / "gone.jpg")
    dataset = read_dataset(data)
    assert dataset.dropped == [str(link)] and "cat.50" not in set(dataset.train["id"])


def test_outlines_wholly_outside_their_image_are_a_warning_naming_the_svg(tmp_path, caplog):
    data = tmp_path / "slide.png"
    cv2.imwrite(str(data), np.full((40, 60, 3), 200, np.uint8))
    svg = tmp_path / "slide.svg"
    svg.write_text(polygons_svg([np.array([[500, 500], [520, 500], [520, 530]]),
                                 np.array([[5, 5], [20, 5], [20, 20]])], 60, 40))
    with caplog.at_level(logging.WARNING, logger="comp.pathology"):
        slides = Slides.load([data], [svg])
    assert len(slides.polygons[0]) == 2
    assert any(str(svg) in record.getMessage() and "1 of 2 outline(s) lie wholly outside the 60x40 image"
               in record.getMessage() for record in caplog.records)


def test_one_fold_is_refused_before_any_work_where_the_plugin_needs_held_out_rows(tmp_path):
    data = write_captcha_final_demo(tmp_path / "data", n=2, seed=0, n_test=1)
    result = comp_in_process("train", "captcha-final", "--data", str(data), "--folds", "1", "--out",
                             str(tmp_path / "run"))
    assert "--folds is 1; it must be at least 2" in one_line_error(result)
    assert not (tmp_path / "run").exists()
