"""The CRNN as a model spec of the shared k-fold loop: each fold trains on endless generated captchas (plus the
fold's fixed labelled rows, when there are some) and returns decoded expressions for its held-out and test rows.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.contract import FitContext, FoldResult, ModelSpec
from comp.sequence import fold_vote
from competitions.captcha.images import ImageStore
from competitions.captcha.scoring import parseable, sequence_accuracy, value_accuracy

keras = lazy_import("keras")
crnn = lazy_import("competitions.captcha.model")  # imports Keras
fitting = lazy_import("comp.sequence.fitting")  # imports Keras
network = lazy_import("comp.sequence.network")  # imports Keras
captcha_batches = lazy_import("competitions.captcha.batches")  # imports Keras

logger = logging.getLogger("comp.captcha")
ARCHITECTURE = ("channels", "downsample", "conv_widths", "convs_per_block", "dense_units", "gru_units", "gru_layers",
                "dropout", "l2")
LEAN_CRNN = {"channels": 1, "downsample": 2, "conv_widths": "16-32-64", "convs_per_block": 2, "dense_units": 128,
             "gru_units": 128, "gru_layers": 2, "dropout": 0.25, "l2": 0.0, "learning_rate": 1e-3,
             "schedule": "cosine", "batch_size": 32, "clipnorm": 5.0}
SEED_CRNN = {**LEAN_CRNN, "channels": 3, "downsample": 1, "conv_widths": "32-64-128", "schedule": "seed"}
SEED_REFERENCE = ("seed CRNN: RGB 180x60, conv 32/64/128, dense 128, two BiGRU-128, Adam 1e-3 -> 1e-4 -> 1e-5")


def architecture(params: dict) -> dict:
    """The ``build_crnn`` arguments in a parameter dict (conv widths are stored as '16-32-64')."""
    arguments = {key: params[key] for key in ARCHITECTURE}
    arguments["conv_widths"] = tuple(int(width) for width in str(params["conv_widths"]).split("-"))
    return arguments


class CrnnSpec(ModelSpec):
    """One CRNN recipe; ``train_on_rows`` False means the labelled rows only validate (generated-data mode)."""

    def __init__(self, *, name: str, train: ImageStore, expressions: np.ndarray, test: ImageStore, config: dict,
                 params: dict, tunable: bool = True, reference: str | None = None, train_on_rows: bool = True,
                 test_labels: np.ndarray | None = None, unreadable_test: np.ndarray | None = None,
                 fold_seconds: float | None = None):
        self.name = name
        self.train, self.expressions, self.test = train, np.asarray(expressions, dtype=str), test
        self.config = config
        self.params = params
        self.tunable = tunable
        self.reference = reference
        self.train_on_rows = train_on_rows
        self.test_labels = test_labels
        self.unreadable_test = unreadable_test
        self.fold_seconds = fold_seconds
        self.validation: dict = {}

    def default_params(self) -> dict:
        return dict(self.params)

    def search_space(self, trial) -> dict:
        """Learning rate, GRU size, conv widths and L2; the ranges hold the defaults, which the first trial replays."""
        rate = float(self.params["learning_rate"])

        def choices(key, options):
            return sorted({*options, self.params[key]})

        return {**self.params,
                "learning_rate": trial.suggest_float("learning_rate", min(2e-4, rate), max(3e-3, rate), log=True),
                "gru_units": trial.suggest_categorical("gru_units", choices("gru_units", [64, 128, 192])),
                "conv_widths": trial.suggest_categorical("conv_widths", choices(
                    "conv_widths", ["16-32-64", "24-48-96", "32-64-128"])),
                "l2": trial.suggest_categorical("l2", choices("l2", [0.0, 1e-6, 1e-5, 1e-4]))}

    def predict(self, model, images: np.ndarray) -> np.ndarray:
        return crnn.predict_expressions(model, images, int(self.config.get("predict_batch_size", 256)))

    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray,
                 context: FitContext) -> FoldResult:
        seed = context.seed
        keras.utils.set_random_seed(seed)
        channels = int(params["channels"])
        images = self.train.get(channels)
        fixed = train_index if self.train_on_rows else train_index[:0]
        batches = captcha_batches.CaptchaBatches(
            seed=seed, batch_size=int(params["batch_size"]), channels=channels, fixed_images=images[fixed],
            fixed_expressions=self.expressions[fixed], fixed_fraction=float(self.config.get("fixed_fraction", 0.5)),
            thin_fraction=float(self.config.get("thin_minus_fraction", 0.5)),
            workers=int(self.config.get("generator_workers", 1)))
        model = network.compile_crnn(crnn.build_crnn(**architecture(params), name=self.name.replace("@", "_")),
                                     learning_rate=float(params["learning_rate"]), clipnorm=params.get("clipnorm"))
        watched = valid_index[:int(self.config.get("validation_images", 256))]
        # Under --time-budget the fit trains until its share of the budget ends, its schedule run by the clock.
        history = fitting.fit_ctc(
            model, batches, name=self.name, context=context, table=crnn.CHARACTERS, params=params,
            steps_per_epoch=int(self.config["steps_per_epoch"]), epochs=int(self.config["epochs"]),
            time_limit=self.fold_seconds, watched_images=images[watched], watched_texts=self.expressions[watched],
            read=self.predict, predict_batch=int(self.config.get("predict_batch_size", 256)), log=logger)
        test_prediction = self.predict_test(model)
        if self.test_labels is not None:  # generated mode: the test rows are the labelled rows, in order
            valid_prediction = test_prediction[valid_index]
        else:
            valid_prediction = self.predict(model, images[valid_index])
        return FoldResult(valid_prediction, test_prediction, model, history)

    def predict_test(self, model) -> np.ndarray:
        """The expression read in every test image, shape (n_test,); "" for the unreadable ones."""
        prediction = self.predict(model, self.test.get(model.input_shape[-1]))
        if self.unreadable_test is not None:
            prediction[self.unreadable_test] = ""
        return prediction

    def combine_folds(self, test_predictions: list[np.ndarray]) -> np.ndarray:
        """Majority vote of the fold models; with a labelled test set (generated mode) each one's accuracy too."""
        voted, self.validation = fold_vote(test_predictions, is_valid=parseable, truth=self.test_labels,
                                           scores={"sequence_accuracy": sequence_accuracy,
                                                   "value_accuracy": value_accuracy})
        return voted

    def save_model(self, model, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        model.save(directory / crnn.CRNN_FILE)

    def load_model(self, directory: Path):
        return crnn.load_crnn(directory)

    def describe(self) -> dict:
        details = {"network": "CRNN + CTC", "trained_on": "generated + fixed rows" if self.train_on_rows else
                   "generated only; labelled rows validate"}
        if self.validation:
            details["validation_set"] = self.validation
        return details
