"""Fixtures for the fault tests: a small generated dogs dataset, a fast training config, the one-line error, the
command run in-process."""

import contextlib
import io
import os
from types import SimpleNamespace
from unittest import mock

import pytest

from comp.cli import main
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


QUICK_CONFIG = """\
backbones = ["squeezenet1_1"]
heads = ["logistic"]
views = ["orig"]
references = false
trials = 0
folds = 2
[weights]
squeezenet1_1 = "none"
"""  # the least a dogs run can train: one backbone with random weights, one head, no tuning, two folds


def comp_in_process(*args: str, env: dict | None = None) -> SimpleNamespace:
    """``comp ARGS`` through ``comp.cli.main`` in this process (no interpreter start-up, for checks that refuse
    before any work): ``returncode``, ``stdout`` and ``stderr`` as a finished subprocess has them."""
    stdout, stderr = io.StringIO(), io.StringIO()
    with mock.patch.dict(os.environ, env or {}), contextlib.redirect_stdout(stdout), \
            contextlib.redirect_stderr(stderr):
        status = main(list(args))
    return SimpleNamespace(returncode=status, stdout=stdout.getvalue(), stderr=stderr.getvalue())


def one_line_error(result):
    """The error line: exit 2, exactly one ``comp: error:`` line, last on stderr (after any progress log)."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("comp: error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0] and "Traceback" not in result.stderr, result.stderr
    return errors[0]


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
