"""The ``comp`` command: list, demo, data, train, predict, submit, submissions, bundle, report, export, bench."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ chatter, set before anything imports it
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")  # albumentations asks PyPI for a newer version on import

from comp.cli._main import main  # noqa: E402

__all__ = ["main"]
