"""Fixtures for the fault tests: a small generated dogs dataset and a fast training config."""

import pytest

from competitions.dogs.demo import write_demo

FAST_CONFIG = """\
backbones = ["squeezenet1_1"]
heads = ["logistic"]
views = ["orig"]
trials = 2
folds = 3
chunk_size = 8
extract_batch_size = 8
[weights]
squeezenet1_1 = "none"
"""


@pytest.fixture
def dogs_data(tmp_path):
    return write_demo(tmp_path / "dogs", n=24, seed=0)


@pytest.fixture
def fast_config(tmp_path):
    path = tmp_path / "fast.toml"
    path.write_text(FAST_CONFIG)
    return path


def corrupt_images(folder, names, real_image):
    """A truncated JPEG, a zero-byte file and a text file named .jpg, under the given names."""
    truncated, empty, text = (folder / name for name in names)
    truncated.write_bytes(real_image.read_bytes()[:700])
    empty.write_bytes(b"")
    text.write_text("this is not a picture\n")
    return [truncated, empty, text]
