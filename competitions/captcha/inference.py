"""``comp predict captcha``: a finished run's fold models read new images; their answers are voted as in training.

The plugin keeps this instead of the contract's default ``predict``: both votes (over a model's folds, over the
models) count only parseable answers, a captcha rule the default's fusion does not know; the new images are a bare
folder of N.png (no labels.txt for ``read``); and result.txt is written beside the CSV.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.errors import CompError
from comp.io import Run
from comp.sequence import vote_of_saved_folds
from competitions.captcha.answers import answer_table, write_answers
from competitions.captcha.images import ImageStore
from competitions.captcha.reader import numbered_images
from competitions.captcha.scoring import parseable

crnn = lazy_import("competitions.captcha.model")  # imports Keras


def predict_run(run: Run, store: ImageStore, batch_size: int = 256) -> np.ndarray:
    """Each image's expression: every member's fold models voted, then the members fused as in training (a vote),
    both counting parseable answers only."""

    def read_with_fold(directory: Path) -> np.ndarray:
        model = crnn.load_crnn(directory)
        return crnn.predict_expressions(model, store.get(model.input_shape[-1]), batch_size)

    return vote_of_saved_folds(run, read_with_fold, is_valid=parseable)


def predict_directory(run: Run, data_dir: Path, out: Path) -> Path:
    """Answer every ``data_dir``/N.png; write ``out`` (id,expression,value) and result.txt beside it."""
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist")
    images = numbered_images(data_dir)
    if images.empty:
        raise CompError(f"no N.png images in {data_dir}")
    store = ImageStore(images["path"])
    store.get(1)
    if store.bad:
        raise CompError(f"{len(store.bad)} image(s) in {data_dir} cannot be decoded: {', '.join(store.bad)}")
    csv_path, _ = write_answers(answer_table(images["id"], predict_run(run, store)), out)
    return csv_path
