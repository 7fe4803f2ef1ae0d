"""The plugin contract: one class per competition with a fixed set of hooks, plus the types they exchange."""

from __future__ import annotations

import inspect
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from comp.errors import CompError
from comp.folds import assign_folds

if TYPE_CHECKING:
    import keras
    import optuna

    from comp.runs import Run


@dataclass(frozen=True)
class Metric:
    """A competition's score: the function, which way is better, and whether predictions are probabilities."""

    name: str
    function: Callable[[np.ndarray, np.ndarray], float]
    direction: str  # "minimize" or "maximize"
    probabilistic: bool = False

    def __post_init__(self):
        if self.direction not in ("minimize", "maximize"):
            raise ValueError(f"metric direction must be 'minimize' or 'maximize', got {self.direction!r}")

    def __call__(self, truth: np.ndarray, prediction: np.ndarray) -> float:
        return float(self.function(np.asarray(truth), np.asarray(prediction)))

    def is_better(self, candidate: float, reference: float) -> bool:
        return candidate < reference if self.direction == "minimize" else candidate > reference

    def best(self, scores: dict[str, float]) -> str:
        """Name of the best-scoring entry."""
        chooser = min if self.direction == "minimize" else max
        return chooser(scores, key=scores.__getitem__)


@dataclass
class Dataset:
    """What ``Competition.read`` returns: the training and test tables and where they came from.

    ``train`` has at least ``id``, ``path`` and ``label`` columns (and ``group`` when rows must not straddle
    folds); ``test`` has ``id`` and ``path``. ``dropped`` lists training files that could not be used.
    """

    data_dir: Path
    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame | None = None
    dropped: list[str] = field(default_factory=list)

    @property
    def labels(self) -> np.ndarray:
        return self.train["label"].to_numpy()


@dataclass
class FoldResult:
    """One fold's fit: predictions for the held-out rows and for the test set, the fitted model, its curves."""

    valid_prediction: np.ndarray
    test_prediction: np.ndarray
    model: Any = None
    history: dict = field(default_factory=dict)


@dataclass
class Section:
    """One titled part of ``report.html``; ``body`` is HTML (build it with ``comp.page``)."""

    title: str
    body: str


class ModelSpec:
    """A model the shared k-fold/tuning loop can fit: feature heads and end-to-end networks alike."""

    name: str = ""
    tunable: bool = True
    reference: str | None = None  # a baseline's label (e.g. "seed recipe"): the report compares it with the final
    # Set by the tuner during an Optuna trial: ``epoch_loss_reporter(epoch, validation_loss)`` returns True when
    # the trial should stop (pruned); networks trained by epochs call it so bad trials end early.
    epoch_loss_reporter: Callable[[int, float], bool] | None = None

    def default_params(self) -> dict:
        """Parameters of the first trial (and of the only one when ``tunable`` is False)."""
        return {}

    def search_space(self, trial: "optuna.Trial") -> dict:
        """Parameters sampled for one Optuna trial."""
        return self.default_params()

    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray, *, seed: int) -> FoldResult:
        raise NotImplementedError(f"{type(self).__name__} must implement fit_fold")

    def combine_folds(self, test_predictions: list[np.ndarray]) -> np.ndarray:
        """The test prediction of the k fold models together; their mean by default."""
        return np.mean(np.stack(test_predictions), axis=0)

    def postprocess(self, prediction: np.ndarray) -> np.ndarray:
        """Applied before scoring and submission (e.g. a fixed clip); identity by default."""
        return prediction

    def save_model(self, model: Any, directory: Path) -> None:
        """Persist one fold's fitted model so ``comp predict`` can reuse it."""

    def describe(self) -> dict:
        """Facts about the spec shown in scores.json and the report."""
        return {}


@dataclass
class TrainingContext:
    """What ``Competition.models`` gets: the data, the resolved config, the run and the feature cache.

    ``models`` may drop training rows it cannot use (recording them in ``dataset.dropped``): the folds are
    made after it returns.
    """

    dataset: Dataset
    config: dict
    run: "Run"
    cache_dir: Path


class Competition:
    """Base class of competition plugins; subclass it, set ``name``, and decorate with ``@register_competition``."""

    name: str = ""
    title: str = ""
    kaggle_slug: str | None = None
    metric: Metric
    reference_clip: float | None = None  # a fixed clip margin to report beside the searched one

    # --- hooks every plugin implements -------------------------------------------------------------
    def read(self, data_dir: Path) -> Dataset:
        raise NotImplementedError

    def models(self, context: TrainingContext) -> list[ModelSpec]:
        raise NotImplementedError

    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run: "Run",
                         submissions_root: Path) -> tuple[Path, Path]:
        raise NotImplementedError

    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        raise NotImplementedError

    # --- hooks with shared defaults ----------------------------------------------------------------
    def folds(self, dataset: Dataset, n_folds: int, seed: int) -> np.ndarray:
        """Stratified k-fold on the labels, grouped when the training table has a ``group`` column."""
        groups = dataset.train["group"].to_numpy() if "group" in dataset.train else None
        return assign_folds(dataset.labels, n_folds=n_folds, seed=seed, groups=groups)

    def search_space(self, spec: ModelSpec, trial: "optuna.Trial") -> dict:
        """The spec's own search space; override to tune differently for this competition."""
        return spec.search_space(trial)

    def fuse(self, models: list, labels: np.ndarray, fold_of_row: np.ndarray) -> list:
        """Fusion candidates from the models' OOF predictions; for probabilistic metrics blend, stack and clip.

        Override for other outputs (e.g. a majority vote over decoded strings).
        """
        from comp import fusion

        if not self.metric.probabilistic:
            return []
        fused = []
        if len(models) > 1:
            fused += [fusion.blend(models, labels, fold_of_row, self.metric),
                      fusion.stack(models, labels, fold_of_row, self.metric)]
        return fused + [fusion.clipped(candidate, labels, fold_of_row, self.metric, self.reference_clip)
                        for candidate in models + fused]

    def default_config(self) -> dict:
        """Defaults from ``config.toml`` beside the plugin's module."""
        path = Path(inspect.getfile(type(self))).with_name("config.toml")
        if not path.exists():
            return {}
        try:
            return tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            raise CompError(f"{path} is not valid TOML: {error}") from error

    def data_status(self, data_dir: Path) -> str:
        """One word or phrase for ``comp list``: whether the data is where ``train`` looks by default."""
        return "present" if data_dir.is_dir() and any(data_dir.iterdir()) else "missing"

    def predict(self, run: "Run", data_dir: Path, out: Path | None) -> Path:
        """Apply a finished run to new data (``comp predict``) and return the file written."""
        raise CompError(f"{self.name} does not support `comp predict` yet")

    def bench(self, data_dir: Path | None = None) -> dict | None:
        """Speed and memory figures for ``comp bench`` as a JSON-ready dict; None when there is nothing to measure."""
        return None

    def report_sections(self, run: "Run") -> list[Section]:
        """Competition-specific parts of the finished run's report (galleries, diagnostics); none by default."""
        return []

    def export_model(self, run: "Run") -> "keras.Model":
        """The run's final model as one Keras model for ``comp export``; a CompError saying why when it cannot be."""
        raise CompError(f"{self.name} runs cannot be exported: the plugin does not build its final model as one "
                        f"network (no export_model hook)")

    def download(self, out_dir: Path) -> Path:
        """Fetch the real data (``comp data``); by default through the Kaggle CLI."""
        if not self.kaggle_slug:
            raise CompError(f"{self.name} has no public download; see `comp data {self.name} --help`")
        from comp.submit import download_competition

        return download_competition(self.kaggle_slug, out_dir)
