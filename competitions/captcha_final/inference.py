"""``comp predict captcha-final``: a finished run's fold models read new images (a bare folder of N.png, cropped in
worker processes); their grammatical readings are voted as in training; result.txt is written beside the CSV. An
image without a text region found is named in one warning and answered with nothing (counted as wrong)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from comp.contract import Recipe
from comp.errors import CompError
from comp.io import Run
from comp.sequence import numbered_pngs, vote_of_saved_folds
from competitions.captcha_final.answers import answer_table, save_answers
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.reader import LAYOUT
from competitions.captcha_final.spec import FormulaCrnnSpec, StripRows
from competitions.captcha_final.strips import StripStore

logger = logging.getLogger("comp.captcha-final")


def predict_directory(run: Run, config: dict, data_dir: Path, out: Path) -> Path:
    """Answer every ``data_dir``/N.png with the run's models; write ``out`` (id,formulas,value) and result.txt."""
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist")
    images = numbered_pngs(data_dir, LAYOUT)
    if images.empty:
        raise CompError(f"no N.png images in {data_dir}")
    store = StripStore(images["path"], int(config.get("preprocess_workers", 2)))
    strips = store.get()
    if store.problems:
        logger.warning("%d image(s) answered with nothing: %s", len(store.problems), "; ".join(store.problems.values()))
    reader = FormulaCrnnSpec("predict", StripRows(store, np.array([], dtype=str), store), config, Recipe({}))

    def read_with_fold(directory: Path) -> np.ndarray:
        answers = reader.predict(reader.load_model(directory), strips)
        answers[store.bad] = ""
        return answers

    answers = vote_of_saved_folds(run, read_with_fold, is_valid=is_grammatical)
    return save_answers(answer_table(images["id"], answers), out)
