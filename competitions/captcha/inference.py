"""``comp predict captcha``: a finished run's fold models read new images; their answers are voted as in training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.errors import CompError
from comp.kfold import saved_fold_models
from comp.runs import Run
from competitions.captcha.answers import answer_table, write_answers
from competitions.captcha.images import ImageStore
from competitions.captcha.reader import numbered_images
from competitions.captcha.scoring import majority_vote


def final_members(scores: dict) -> list[str]:
    """The models behind the run's final answer: the vote's members (best first) or the one final model."""
    if "final" not in scores:
        raise CompError("the run did not finish training (no final model in scores.json)")
    name = scores["final"]["name"]
    return list(scores["fusion"][name]["members"]) if name in scores.get("fusion", {}) else [name]


def predict_run(run: Run, store: ImageStore, batch_size: int = 256) -> np.ndarray:
    """Each image's expression: every member's fold models voted, then the members voted, as in training."""
    import keras

    from competitions.captcha.model import predict_expressions

    scores = run.read_json("scores.json")
    answers = []
    for member in final_members(scores):
        fold_answers = []
        for directory in saved_fold_models(run, scores, member):
            model = keras.models.load_model(directory / "crnn.keras", compile=False)
            fold_answers.append(predict_expressions(model, store.get(model.input_shape[-1]), batch_size))
        answers.append(majority_vote(fold_answers))
    return majority_vote(answers)


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
