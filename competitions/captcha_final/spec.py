"""The CRNN reading a formula strip as a model spec of the shared k-fold loop: each fold trains on endless generated
and recombined samples (plus the fold's labelled rows, when there are some) and returns the formulas it reads in its
held-out and test strips, decoded greedily or with the grammar (config ``decoder``)."""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.contract import FitContext, FoldResult, ModelSpec, Recipe
from comp.sequence import fold_vote
from competitions.captcha_final.cropping import STRIP_HEIGHT, STRIP_WIDTH
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.reader import BAD_LABEL
from competitions.captcha_final.reading import CHARACTERS, DEFAULT_DECODER, TIME_STEPS, decode_formulas
from competitions.captcha_final.renderer import stream_variation
from competitions.captcha_final.scoring import sequence_accuracy, value_accuracy
from competitions.captcha_final.strips import StripStore

keras = lazy_import("keras")
network = lazy_import("comp.sequence.network")  # imports Keras
fitting = lazy_import("comp.sequence.fitting")  # imports Keras
formula_batches = lazy_import("competitions.captcha_final.batches")  # imports Keras

logger = logging.getLogger("comp.captcha-final")
NETWORK_FILE = "crnn.keras"  # one fold's network in its fold_cache model folder
ARCHITECTURE = ("downsample", "conv_widths", "convs_per_block", "dense_units", "gru_units", "gru_layers", "dropout",
                "l2", "regularise_norm", "dense_initializer")
LEAN_CRNN = {"downsample": 2, "conv_widths": "16-32-64", "convs_per_block": "2-2-2", "dense_units": 128,
             "gru_units": 128, "gru_layers": 2, "dropout": 0.25, "l2": 0.0, "regularise_norm": False,
             "dense_initializer": "glorot_uniform", "learning_rate": 3e-3, "schedule": "cosine", "batch_size": 32,
             "clipnorm": 5.0}
SEED_346 = {**LEAN_CRNN, "downsample": 1, "conv_widths": "64-128-256", "convs_per_block": "3-4-6", "dense_units": 256,
            "l2": 1e-5, "regularise_norm": True, "dense_initializer": "he_uniform", "learning_rate": 1e-3,
            "schedule": "seed"}
SEED_REFERENCE = ("seed '346' CRNN: full 80x900 strip, 3, 4 and 6 convolutions per stage (64/128/256, he_uniform, "
                  "batch norm), L2 1e-5 on kernels, batch norm and dense, two BiGRU-128, Adam 1e-3 -> 1e-4 -> 1e-5")


def architecture(params: dict) -> dict:
    """The ``comp.sequence.network.build_crnn`` arguments in a parameter dict ('16-32-64' and '3-4-6' as text)."""
    arguments = {key: params[key] for key in ARCHITECTURE}
    arguments["conv_widths"] = tuple(int(width) for width in str(params["conv_widths"]).split("-"))
    arguments["convs_per_block"] = tuple(int(count) for count in str(params["convs_per_block"]).split("-"))
    return arguments


def build_network(params: dict, name: str = "crnn"):
    """The CRNN of ``params``: (80, 900, 1) uint8 strips -> (TIME_STEPS, blank + characters) logits."""
    return network.build_crnn(input_shape=(STRIP_HEIGHT, STRIP_WIDTH, 1), time_steps=TIME_STEPS,
                              n_classes=CHARACTERS.n_classes, name=name, **architecture(params))


@dataclass
class StripRows:
    """What a spec reads: the training strips and their formulas, the test strips, and the test rows' formulas when
    they are known (generated mode: the labelled rows are the test rows)."""

    train: StripStore
    formulas: np.ndarray
    test: StripStore
    test_labels: np.ndarray | None = None


class FormulaCrnnSpec(ModelSpec):
    """One CRNN recipe; ``train_on_rows`` False means the labelled rows only validate (generated-data mode)."""

    def __init__(self, name: str, rows: StripRows, config: dict, recipe: Recipe, *, train_on_rows: bool = True,
                 fold_seconds: float | None = None):
        self.name, self.config = name, config
        self.params, self.tunable, self.reference = recipe.params, recipe.tunable, recipe.reference
        self.train, self.test, self.test_labels = rows.train, rows.test, rows.test_labels
        self.formulas = np.asarray(rows.formulas, dtype=str)
        self.train_on_rows, self.fold_seconds = train_on_rows, fold_seconds
        self.validation: dict = {}

    def default_params(self) -> dict:
        """The recipe's parameters: the untuned fit and the first trial."""
        return dict(self.params)

    def search_space(self, trial) -> dict:
        """Learning rate, GRU size and conv widths; the ranges hold the defaults, which the first trial replays."""
        rate = float(self.params["learning_rate"])
        return {**self.params,
                "learning_rate": trial.suggest_float("learning_rate", min(2e-4, rate), max(3e-3, rate), log=True),
                "gru_units": trial.suggest_categorical("gru_units", sorted({64, 128, 192, self.params["gru_units"]})),
                "conv_widths": trial.suggest_categorical("conv_widths", sorted(
                    {"16-32-64", "32-64-128", self.params["conv_widths"]}))}

    def logits(self, model, strips: np.ndarray) -> np.ndarray:
        return model.predict(strips, batch_size=int(self.config.get("predict_batch_size", 64)), verbose=0)

    def predict(self, model, strips: np.ndarray, decoder: str | None = None) -> np.ndarray:
        """(n,) formulas read from (n, 80, 900, 1) strips with ``decoder`` (default: the config's)."""
        if len(strips) == 0:
            return np.array([], dtype=str)
        return decode_formulas(self.logits(model, strips), decoder or self.config.get("decoder", DEFAULT_DECODER),
                               int(self.config.get("beam_width", 8)))

    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray,
                 context: FitContext) -> FoldResult:
        keras.utils.set_random_seed(context.seed)
        strips = self.train.get()
        usable = ~self.train.bad & (self.formulas != BAD_LABEL)
        fixed = train_index[usable[train_index]] if self.train_on_rows else train_index[:0]
        watched = valid_index[usable[valid_index]][:int(self.config.get("validation_images", 256))]
        with tempfile.TemporaryDirectory(prefix="comp-crop-pool-", ignore_cleanup_errors=True) as pool_store:
            batches = self.training_batches(params, context.seed, strips, fixed, Path(pool_store))
            model = network.compile_crnn(build_network(params, self.name.replace("@", "_")),
                                         learning_rate=float(params["learning_rate"]), clipnorm=params.get("clipnorm"))
            history = fitting.fit_ctc(
                model, batches, name=self.name, context=context, table=CHARACTERS, params=params,
                steps_per_epoch=int(self.config["steps_per_epoch"]), epochs=int(self.config["epochs"]),
                time_limit=self.fold_seconds, watched_images=strips[watched], watched_texts=self.formulas[watched],
                read=lambda network_model, images: self.predict(network_model, images, "greedy"),
                predict_batch=int(self.config.get("predict_batch_size", 64)), log=logger)
        if self.config.get("compare_decoders", True) and len(watched):
            logits = self.logits(model, strips[watched])
            history.update({f"{decoder}_sequence_accuracy": sequence_accuracy(
                self.formulas[watched], decode_formulas(logits, decoder, int(self.config.get("beam_width", 8))))
                for decoder in ("greedy", "grammar")})
        test_prediction = self.predict_test(model)
        if self.test_labels is not None:  # generated mode: the test rows are the labelled rows, in order
            valid_prediction = test_prediction[valid_index]
        else:
            valid_prediction = self.predict(model, strips[valid_index])
            valid_prediction[self.train.bad[valid_index]] = ""
        return FoldResult(valid_prediction, test_prediction, model, history)

    def training_batches(self, params: dict, seed: int, strips: np.ndarray, fixed: np.ndarray, pool_store: Path):
        """The fit's endless ``FormulaBatches``: ``fixed`` rows of (n, 80, 900, 1) ``strips`` (with --data), recombined
        and rendered samples, the crop pool's sources saved in ``pool_store``."""
        return formula_batches.FormulaBatches(
            seed=seed, batch_size=int(params["batch_size"]), fixed_strips=strips[fixed, ..., 0],
            fixed_formulas=self.formulas[fixed], fixed_fraction=float(self.config.get("fixed_fraction", 0.4)),
            fixed_paths=[self.train.paths[row] for row in fixed],
            recombined_fraction=float(self.config.get("recombined_fraction", 0.5)),
            pool_size=int(self.config.get("recombination_pool", 256)),
            workers=int(self.config.get("generator_workers", 1)),
            variation=stream_variation(str(self.config.get("variation", "full"))), pool_store=pool_store)

    def predict_test(self, model) -> np.ndarray:
        """The formulas read in every test image, shape (n_test,); "" for an image without a text region found."""
        prediction = self.predict(model, self.test.get())
        prediction[self.test.bad] = ""
        return prediction

    def combine_folds(self, test_predictions: list[np.ndarray]) -> np.ndarray:
        """Majority vote of the fold models; with a labelled test set (generated mode) each one's accuracy too."""
        voted, self.validation = fold_vote(test_predictions, is_valid=is_grammatical, truth=self.test_labels,
                                           scores={"sequence_accuracy": sequence_accuracy,
                                                   "value_accuracy": value_accuracy})
        return voted

    def save_model(self, model, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        model.save(directory / NETWORK_FILE)

    def load_model(self, directory: Path):
        return network.load_network(Path(directory) / NETWORK_FILE, "captcha-final")

    def describe(self) -> dict:
        details = {"network": "CRNN + CTC on the 80x900 line strip", "decoder": self.config.get("decoder", DEFAULT_DECODER),
                   "trained_on": "generated + recombined + fixed rows" if self.train_on_rows else
                   "generated + recombined only; labelled rows validate"}
        if self.validation:
            details["validation_set"] = self.validation
        return details
