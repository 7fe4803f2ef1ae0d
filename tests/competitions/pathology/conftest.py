"""The tiny trained pathology run shared by the end-to-end, report and predict tests (trained once per session)."""

from pathlib import Path

import pytest

from competitions.pathology.demo import write_demo
from tests.conftest import train_demo_run

TINY_CONFIG = """\
folds = 2
trials = 0
models = ["unet"]
tta_views = ["identity", "hflip"]
[unet]
tile = 64
widths = "8-16-32"
epochs = 2
steps_per_epoch = 6
batch_size = 4
"""


@pytest.fixture(scope="session")
def pathology_demo_run(tmp_path_factory) -> Path:
    """A 2-fold tiny U-Net run on 8 demo slides (3 test slides); its submission is published under ../submissions."""
    root = tmp_path_factory.mktemp("pathology_demo")
    return train_demo_run(root, "pathology", write_demo(root / "data", n=8, seed=0, n_test=3), config=TINY_CONFIG)
