"""The captcha's final round as a plugin: 2-3 formula lines with Chinese variables found in a large image, cropped
into one 80x900 strip, read by a CRNN with CTC and scored by whole-sequence accuracy (value accuracy beside it).

Two data modes, as in the first round: ``--data DIR`` (the competition layout) gives k folds of the labelled images,
each fold trained on generated and recombined samples mixed with its training rows; ``data = "generated"`` (the
default) trains only on generated samples, one model per fold seed, each validated on a fixed generated set that is
also the "test" set, so the vote of the k models has a validation score too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from comp import Candidate, Competition, Dataset, Metric, Recipe, TrainingContext, register_competition
from comp.errors import CompError
from comp.fusion import majority_vote
from comp.io import default_cache_dir, save_submission
from comp.schedules import fold_seconds
from comp.sequence import reading_sections
from competitions.captcha_final.answers import answer_table, check_answer_file
from competitions.captcha_final.bench import run_benchmark
from competitions.captcha_final.decoder_report import decoder_section
from competitions.captcha_final.demo import generated_validation_set, write_demo
from competitions.captcha_final.fonts import cjk_faces
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.inference import predict_directory
from competitions.captcha_final.reader import BAD_LABEL, read_dataset
from competitions.captcha_final.reading import DEFAULT_DECODER
from competitions.captcha_final.renderer import stream_variation
from competitions.captcha_final.scoring import sequence_accuracy, value_accuracy
from competitions.captcha_final.spec import LEAN_CRNN, SEED_346, SEED_REFERENCE, FormulaCrnnSpec, StripRows
from competitions.captcha_final.strips import StripStore, strip_picture

logger = logging.getLogger("comp.captcha-final")
GENERATED = "generated"
TRAINING_SHARE = 0.8  # of a fold's share of --time-budget, the rest is for validation and prediction


def is_generated(data) -> bool:
    """Whether ``data`` asks for generated mode: the word "generated" where no directory of that name exists."""
    return str(data) == GENERATED and not Path(GENERATED).is_dir()


@register_competition
class CaptchaFinalCompetition(Competition):
    name = "captcha-final"
    default_models = ("crnn",)
    title = "Arithmetic captcha, final round: multi-line formulas with Chinese variables (crop + CRNN + CTC)"
    demo_size = 24  # images of `comp demo` and of the contract check (rendering one takes about 0.1 s)
    metric = Metric("sequence_accuracy", sequence_accuracy, "maximize")
    # 20 steps of 16 per fold: the pipeline end to end, far too few steps to read formulas (the lean CRNN trains
    # at about 13 images/s on 2 loaded cores; README); greedy answers, as the grammar beam is slowest on an untrained
    # network's outputs (38 ms an image; the folds still score both decoders); samples drawn in the training process,
    # as a worker that starts and imports Keras for 20 steps only adds its start-up
    demo_flags = {"folds": 2, "trials": 0, "epochs": 2, "steps_per_epoch": 10, "validation_size": 24,
                  "validation_images": 8, "recombination_pool": 16, "generator_workers": 0, "decoder": "greedy",
                  "crnn": {"batch_size": 16}}

    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The layout of ``data_dir``; for ``generated``, the fixed generated validation set as both train and test
        (``inputs["generated"]`` True: its rows only validate)."""
        if is_generated(data_dir):
            directory = generated_validation_set(default_cache_dir(config), n=int(config["validation_size"]),
                                                 seed=int(config["validation_seed"]))
            train = read_dataset(directory).train
            return Dataset(data_dir=Path(data_dir), train=train, test=train[["id", "path"]].copy(),
                           inputs={"generated": True, "bad_labels": []})
        return read_dataset(data_dir)

    def fewest_folds(self, config: dict) -> int:
        """1 in generated mode (one network, no vote: no model trains on the validation rows), else 2."""
        return 1 if is_generated(config.get("data")) else 2

    def folds(self, dataset: Dataset, n_folds: int, seed: int) -> np.ndarray:
        """k folds of the rows; in generated mode ``--folds 1`` is one network given the whole budget, every
        validation row its held-out row (k > 1: k generator-seeded models, their readings of every row voting)."""
        if dataset.inputs.get("generated") and n_folds == 1:
            return np.zeros(len(dataset.train), dtype=int)
        return super().folds(dataset, n_folds, seed)

    def data_status(self, data_dir: Path) -> str:
        return GENERATED if is_generated(data_dir) else super().data_status(data_dir)

    def recipes(self, config: dict) -> dict[str, Recipe]:
        """``crnn`` (tuned, CPU-lean, its defaults under ``[crnn]`` in the config) and ``seed_346`` (the seed's
        network, a reference)."""
        return {"crnn": Recipe({**LEAN_CRNN, **config.get("crnn", {})}),
                "seed_346": Recipe(dict(SEED_346), tunable=False, reference=SEED_REFERENCE)}

    def models(self, context: TrainingContext) -> list[FormulaCrnnSpec]:
        """The specs named by ``models`` in the config; every image is cropped once, in worker processes."""
        config, dataset = context.config, context.dataset
        try:
            stream_variation(str(config.get("variation", "full")))
        except ValueError as error:
            raise CompError(f"config: {error}") from None
        generated = bool(dataset.inputs.get("generated"))
        workers = int(config.get("preprocess_workers", 2))
        train = StripStore(dataset.train["path"], workers)
        test = train if generated else StripStore(dataset.test["path"], workers)
        for store in {id(train): train, id(test): test}.values():
            store.get()
            dataset.inputs.setdefault("no_text", []).extend(store.problems.values())
        if dataset.inputs["no_text"]:
            logger.warning("%d image(s) answered with nothing and counted as wrong: %s", len(dataset.inputs["no_text"]),
                           "; ".join(dataset.inputs["no_text"]))
        formulas = dataset.train["label"].to_numpy(dtype=str)
        rows = StripRows(train, formulas, test, test_labels=formulas if generated else None)
        return [FormulaCrnnSpec(name, rows, config, recipe, train_on_rows=not generated,
                                fold_seconds=fold_seconds(config, TRAINING_SHARE))
                for name, recipe in self.chosen_recipes(config).items()]

    def fuse(self, models: list, labels: np.ndarray, fold_of_row: np.ndarray) -> list:
        """The seed's fusion: per image, the majority of the models' grammatical readings (scored on OOF)."""
        ranked = sorted(models, key=lambda model: -model.score)
        oof = majority_vote([model.oof for model in ranked], is_valid=is_grammatical)
        test = majority_vote([model.test for model in ranked], is_valid=is_grammatical)
        details = {"members": [model.name for model in ranked],
                   "rule": "majority of grammatical readings; ties go to the best-scoring member",
                   "value_accuracy": {**{model.name: value_accuracy(labels, model.oof) for model in ranked},
                                      "vote": value_accuracy(labels, oof)}}
        return [Candidate("vote", oof, test, sequence_accuracy(labels, oof),
                          self.metric.by_fold(labels, oof, fold_of_row), details)]

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """The test images' answers as ``id,formulas,value`` (a header only when there are none)."""
        return save_submission(answer_table(dataset.test["id"], test_prediction), run_dir=run.path,
                               competition=self.name, run_id=run.id, submissions_root=submissions_root)

    def predict(self, run, data_dir: Path, out: Path | None) -> Path:
        """Answers for DIR/N.png in numeric order: the CSV (default RUN/predictions.csv) and result.txt beside it,
        with the run's decoder; the votes count grammatical readings only."""
        config = run.read_json("config.json")["config"]
        return predict_directory(run, config, Path(data_dir), Path(out) if out else run.file("predictions.csv"))

    def validate_submission_file(self, path: Path, data_dir: Path | None) -> None:
        """What ``write_submission`` promises: header ``id,formulas,value``, unique ids."""
        check_answer_file(path)

    def report_sections(self, run) -> list:
        """Held-out accuracy against minutes trained, accuracy per character, the most confused character pairs, a
        gallery of wrong readings showing the strip each image was read from (bad labels lines are not tallied) and
        greedy against grammar decoding per fold."""
        sections = reading_sections(run, picture_of=strip_picture, shows="the 80x900 strip the network read, ink "
                                    "bright", fonts=(cjk_faces()[0].path,), untallied=(BAD_LABEL,))
        decoder = run.read_json("config.json")["config"].get("decoder", DEFAULT_DECODER)
        comparison = decoder_section(run.read_json("scores.json"), decoder)
        return sections + ([comparison] if comparison else [])

    def export_model(self, run):
        """Not one network: the answer is a majority vote over the formulas read by each fold's CRNN."""
        raise CompError(f"{run.path}: a captcha-final answer is a majority vote over the formulas read by each "
                        f"fold's CRNN, not one network; each fold's network is saved as "
                        f"fold_cache/<model>/<params>/fold<k>/model/crnn.keras")

    def bench(self, data_dir: Path | None = None) -> dict:
        """Preprocessing images/s per core, rendering images/s on one core, prediction images/s of the lean CRNN and
        decoding milliseconds per image (bench.py)."""
        return run_benchmark(data_dir, self.default_config())

    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        return write_demo(out_dir, n=n, seed=seed, n_test=max(2, n // 4))
