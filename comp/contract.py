"""The plugin contract: a competition subclasses ``Competition`` (and ``ModelSpec`` for its own models).

Hooks in the order ``comp train`` calls them (``comp.engine.train``):

1. ``read(data_dir, config)`` -> ``Dataset``: the training and test tables. Decoded inputs that later hooks reuse
   (slides, image stores) go in ``Dataset.inputs``, never in attributes of the plugin.
2. ``models(context)`` -> ``list[ModelSpec]``: the models to fit. It may drop training rows it cannot use (recording
   them in ``dataset.dropped``); the folds are made after it returns.
3. ``folds(dataset, n_folds, seed)`` -> fold of every training row (saved with the run, reused on ``--resume``).
4. Per model spec: ``search_space(spec, trial)`` once per Optuna trial, then per fold ``spec.fit_fold(params,
   train_index, valid_index, context)`` -> ``FoldResult`` and ``spec.save_model``; ``spec.combine_folds`` and
   ``spec.postprocess`` make the model's OOF and test predictions.
5. ``fuse_in_run(models, labels, fold_of_row, context)`` -> fusion ``Candidate``s, fitted on OOF only (by default
   ``fuse(models, labels, fold_of_row)``); the best of the models and candidates on OOF is the final one.
6. ``write_submission(dataset, test_prediction, run=, submissions_root=)`` with the final candidate's test prediction.
7. ``report_sections(run)`` when the report is written (end of ``train``, or ``comp report``).

``comp predict`` calls ``predict(run, data_dir, out)``. By default (``predict_new_data``) the run's final
candidate (``comp.fusion.read_final``) is rebuilt for the test rows of ``read_new(data_dir, config)`` (``read`` unless
overridden): ``prediction_models`` rebuilds the specs for them (``models`` unless overridden), each fold model a member
saved (``ModelSpec.load_model``) predicts them (``ModelSpec.predict_test``), the folds are combined and
post-processed as in training, the members fused as fitted (``comp.fusion.FittedFusion``), and
``write_predictions`` writes the file (the plugin's ``write_submission`` unless overridden).
"""

from __future__ import annotations

import abc
import inspect
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from comp.errors import CompError, TrialPruned
from comp.folds import assign_folds
from comp.fusion import Candidate, FinalCandidate, read_final, task_fusion
from comp.io import Run, check_submission_file, default_cache_dir, download_competition, saved_fold_models, write_bytes
from comp.metrics import Metric
from comp.tasks import Task

if TYPE_CHECKING:
    import keras
    import optuna


@dataclass
class Dataset:
    """What ``Competition.read`` returns: the training and test tables and where they came from.

    ``train`` has at least ``id``, ``path`` and ``label`` columns (and ``group`` when rows must not straddle
    folds); ``test`` has ``id`` and ``path``. A classification plugin declares its ``task`` (``comp.tasks.Task``) and
    the encoded ``targets``; the folds and the metric then use them, and ``label`` only names them. ``dropped``
    lists training files that could not be used. ``inputs``
    holds what one hook decoded for a later one (e.g. ``{"test_slides": Slides}`` from ``models`` for
    ``write_submission``): the one place a plugin keeps state between hooks.
    """
    data_dir: Path
    train: pd.DataFrame
    test: pd.DataFrame
    sample_submission: pd.DataFrame | None = None
    dropped: list[str] = field(default_factory=list)
    inputs: dict[str, Any] = field(default_factory=dict)
    task: Task | None = None
    targets: np.ndarray | None = None

    @property
    def labels(self) -> np.ndarray:
        """The ``label`` column, shape (n_rows,)."""
        return self.train["label"].to_numpy()

    def truth(self) -> np.ndarray:
        """What the metric scores predictions against: ``targets`` when the plugin declared a ``task`` (class
        indices (n,), a 0/1 label matrix (n, K) or values (n,)), else the ``label`` column."""
        return self.labels if self.targets is None else self.targets

    def keep_train_rows(self, keep: np.ndarray) -> None:
        """Keep only the training rows where ``keep`` (shape (n_rows,)) is True, in the table and the targets."""
        self.train = self.train[keep].reset_index(drop=True)
        if self.targets is not None:
            self.targets = self.targets[keep]


@dataclass
class FoldResult:
    """One fold's fit: predictions for the held-out rows and for the test set, the fitted model, its curves.

    ``valid_prediction`` has one row per held-out row and ``test_prediction`` one per test row: arrays of shape
    (n_rows,) or (n_rows, ...), numbers or strings. ``history`` maps curve names to per-epoch floats.
    """
    valid_prediction: np.ndarray
    test_prediction: np.ndarray
    model: Any = None
    history: dict = field(default_factory=dict)


@dataclass
class Section:
    """One titled part of ``report.html``; ``body`` is HTML (build it with ``comp.report.page``)."""

    title: str
    body: str


@dataclass
class TrainingContext:
    """What ``Competition.models`` gets: the data, the resolved config, the run and the feature cache."""

    dataset: Dataset
    config: dict
    run: Run
    cache_dir: Path


@dataclass
class FitContext:
    """What ``ModelSpec.fit_fold`` gets besides the rows: the fold's seed and the tuner's per-epoch pruning hook.

    A network trained by epochs calls ``report_epoch(epoch, validation_loss)`` after each epoch (the shared Keras
    callback ``comp.vision.PruneOnValidationLoss`` does) and stops training when it returns True; once the fit
    has cleaned up, ``raise_if_pruned()`` ends the trial with ``comp.TrialPruned``.
    """
    seed: int
    fold: int = 0
    epoch_reporter: Callable[[int, float], bool] | None = None
    pruned_at: int | None = None

    def report_epoch(self, epoch: int, validation_loss: float) -> bool:
        """Pass one epoch's validation loss to the tuner; True when the trial should stop now."""
        if self.epoch_reporter is None or not self.epoch_reporter(epoch, float(validation_loss)):
            return False
        self.pruned_at = epoch
        return True

    def raise_if_pruned(self, what: str) -> None:
        """Raise ``TrialPruned`` naming ``what`` when ``report_epoch`` said to stop."""
        if self.pruned_at is not None:
            raise TrialPruned(f"{what} after epoch {self.pruned_at + 1}")


@dataclass(frozen=True)
class Recipe:
    """A model a plugin offers by name (``models = [...]`` in the config): its parameters, whether it is tuned, the
    baseline label the report compares it under, and what it builds (e.g. the network), when names share a builder."""

    params: dict
    tunable: bool = True
    reference: str | None = None
    builds: str = ""


class ModelSpec(abc.ABC):
    """A model the shared k-fold and tuning loop fits: feature heads and end-to-end networks alike.

    Set ``name`` (unique in the run); ``tunable`` False fits ``default_params()`` only; ``trials`` (None: the run's
    --trials) is this spec's own number of Optuna trials; ``reference`` labels a baseline the report compares with
    the final model.
    """
    name: str = ""
    tunable: bool = True
    trials: int | None = None
    reference: str | None = None

    def default_params(self) -> dict:
        """Parameters of the first trial (and of the only one when ``tunable`` is False)."""
        return {}

    def search_space(self, trial: "optuna.Trial") -> dict:
        """Parameters sampled for one Optuna trial."""
        return self.default_params()

    @abc.abstractmethod
    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray,
                 context: FitContext) -> FoldResult:
        """Fit on the training rows ``train_index`` (shape (n_train,)) and predict the held-out rows
        ``valid_index`` and the test rows. Called once per fold and parameter set; seed everything from
        ``context.seed``, so a rerun gives the same predictions."""
    def combine_folds(self, test_predictions: list[np.ndarray]) -> np.ndarray:
        """The test prediction of the k fold models together; their mean by default."""
        return np.mean(np.stack(test_predictions), axis=0)

    def postprocess(self, prediction: np.ndarray) -> np.ndarray:
        """Applied before scoring and submission (e.g. a fixed clip); identity by default."""
        return prediction

    def save_model(self, model: Any, directory: Path) -> None:
        """Persist one fold's fitted model (``FoldResult.model``) in ``directory`` for ``comp predict``; by default
        nothing is saved."""
    def load_model(self, directory: Path) -> Any:
        """The fold model ``save_model`` wrote in ``directory``."""
        raise CompError(f"{type(self).__name__} does not save its fold models, so a run of it cannot predict new data")

    def predict_test(self, model: Any) -> np.ndarray:
        """A fitted fold model's (as ``load_model`` returns it) prediction of the test rows this spec was built on,
        like ``FoldResult.test_prediction``: shape (n_test,) or (n_test, ...). ``comp predict`` calls it on specs
        rebuilt for new rows; ``fit_fold`` calling it too keeps both predictions the same."""
        raise CompError(f"{type(self).__name__} has no predict_test, so `comp predict` cannot apply its saved fold "
                        f"models to new rows")

    def describe(self) -> dict:
        """Facts about the spec shown in scores.json and the report."""
        return {}


class Competition(abc.ABC):
    """Base class of competition plugins; subclass it, set ``name``, ``title`` and ``metric``, implement the
    abstract hooks and decorate with ``@register_competition``."""
    name: str = ""
    title: str = ""
    kaggle_slug: str | None = None
    metric: Metric
    demo_size: int = 200  # training images ``comp demo`` writes when --n is not given
    demo_flags: dict = {}  # config overrides of ``comp demo --train`` (small and fast)
    demo_tasks: tuple[str, ...] = ()  # task types ``comp demo --task`` can draw (passed to ``demo`` as ``task``)
    task: Task | None = None  # what is predicted; ``train`` sets it from ``Dataset.task`` after ``read``
    default_models: tuple[str, ...] = ()  # recipes trained when the config names none (``models = [...]``)

    # --- hooks every plugin implements -------------------------------------------------------------
    @abc.abstractmethod
    def read(self, data_dir: Path, config: dict) -> Dataset:
        """The training and test tables of ``data_dir`` (the competition's layout), under the resolved ``config``."""
    @abc.abstractmethod
    def models(self, context: TrainingContext) -> list[ModelSpec]:
        """The model specs to fit under k-fold (and tune, when ``tunable``)."""
    @abc.abstractmethod
    def write_submission(self, dataset: Dataset, test_prediction: np.ndarray, *, run: Run,
                         submissions_root: Path) -> tuple[Path, Path]:
        """Validate and write the final test prediction (shape (n_test,) or (n_test, ...)): return (the run's own
        file, its never-overwritten copy under ``submissions_root``)."""
    @abc.abstractmethod
    def demo(self, out_dir: Path, n: int, seed: int) -> Path:
        """Write a small generated dataset of ``n`` training rows in the competition's layout into ``out_dir``."""
    # --- hooks with shared defaults ----------------------------------------------------------------
    def validate_submission_file(self, path: Path, data_dir: Path | None) -> None:
        """Judge a submission file before ``comp submit`` spends an upload on it (a run's own file and ``--file``
        alike): a one-line CompError naming the first bad row or column. Override with the rules
        ``write_submission`` applies; by default the header, ids, order, row count and finite numbers against
        ``data_dir/sample_submission.csv`` when there is one (``comp.io.check_submission_file``)."""
        check_submission_file(path, sample_path=Path(data_dir) / "sample_submission.csv" if data_dir else None)

    def folds(self, dataset: Dataset, n_folds: int, seed: int) -> np.ndarray:
        """Fold (0..n_folds-1) of every training row, shape (n_rows,): k-fold stratified as the task says (classes,
        a label matrix, binned values; the ``label`` column without a task), grouped when the training table has a
        ``group`` column."""
        groups = dataset.train["group"].to_numpy() if "group" in dataset.train else None
        return assign_folds(dataset.truth(), n_folds=n_folds, seed=seed, groups=groups,
                            stratify_by=dataset.task.stratify_by if dataset.task else None)

    def fewest_folds(self, config: dict) -> int:
        """The smallest ``folds`` the resolved ``config`` may ask for, checked before a run directory is made: 2, so
        every row is held out once; a plugin whose models never train on the scored rows may allow 1."""
        return 2

    def recipes(self, config: dict) -> dict[str, Recipe]:
        """Every model recipe the plugin offers by name, under the resolved ``config``; none by default."""
        return {}

    def chosen_recipes(self, config: dict) -> dict[str, Recipe]:
        """The recipes named by the config's ``models`` (``default_models`` when it names none), in that order; an
        unknown name is a one-line error listing the known ones."""
        known = self.recipes(config)
        names = config.get("models") or list(self.default_models)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise CompError(f"unknown {self.name} model {unknown[0]!r} in `models`; known: {', '.join(known)}")
        return {name: known[name] for name in names}

    def search_space(self, spec: ModelSpec, trial: "optuna.Trial") -> dict:
        """The spec's own search space; override to tune differently for this competition."""
        return spec.search_space(trial)

    def fuse(self, models: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray) -> list[Candidate]:
        """Fusion candidates from the models' OOF predictions (``labels``: the truth, ``Dataset.truth()``): for a
        declared ``task`` or a probabilistic metric, the blend, the stack and the post-processing the metric calls for
        (``comp.fusion.task_fusion``). Override for other outputs (e.g. a majority vote over strings)."""
        if self.task is None and not self.metric.probabilistic:
            return []
        return task_fusion(models, labels, fold_of_row, self.metric, self.task)

    def fuse_in_run(self, models: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray,
                    context: TrainingContext) -> list[Candidate]:
        """What ``comp train`` calls to fuse: ``fuse`` with the run at hand (``context``: the data with its
        ``Dataset.inputs``, the config, the run with its saved fold models and scores.json), for a plugin whose fusion
        needs more than the OOF predictions, e.g. the held-out probability maps its fold models saved. By default
        ``fuse(models, labels, fold_of_row)``."""
        return self.fuse(models, labels, fold_of_row)

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

    def predict(self, run: Run, data_dir: Path, out: Path | None) -> Path:
        """Apply a finished run to the new data in ``data_dir`` (``comp predict``) and return the file written (``out``,
        by default RUN/predictions.csv); by default through ``read_new``, ``prediction_models``, the saved fold
        models and ``write_predictions`` (``predict_new_data``)."""
        return predict_new_data(self, run, data_dir, out)

    def read_new(self, data_dir: Path, config: dict) -> Dataset:
        """The rows ``comp predict`` applies a run to, as the ``test`` table of a Dataset (its ``train`` may be
        empty), under the run's ``config``; by default ``read`` (new data in the competition's layout)."""
        return self.read(data_dir, config)

    def prediction_models(self, context: TrainingContext) -> list[ModelSpec]:
        """The run's model specs rebuilt for the test rows of ``context.dataset`` (from ``read_new``), whose saved fold
        models then predict those rows (``ModelSpec.predict_test``); by default ``models(context)``. Override it
        when ``models`` needs training rows the new data does not have."""
        return self.models(context)

    def write_predictions(self, dataset: Dataset, prediction: np.ndarray, out: Path, *, run: Run) -> Path:
        """Write ``comp predict``'s prediction of the new rows (shape (n_test,) or (n_test, ...)) to ``out`` and
        return it: by default the file ``write_submission`` makes of it (validated as a submission is), written
        into a scratch copy of the run and then copied to ``out``."""
        with tempfile.TemporaryDirectory(prefix="comp-predict-") as scratch:
            scratch_run = Run.create(scratch, self.name, Path(scratch) / "run")
            scratch_run.write_json("config.json", run.config())
            written, _ = self.write_submission(dataset, prediction, run=scratch_run,
                                               submissions_root=Path(scratch) / "submissions")
            return write_bytes(out, Path(written).read_bytes())

    def bench(self, data_dir: Path | None = None) -> dict | None:
        """Speed and memory figures for ``comp bench`` as a JSON-ready dict; None when there is nothing to measure."""
        return None

    def report_sections(self, run: Run) -> list[Section]:
        """Competition-specific parts of the finished run's report (galleries, diagnostics); none by default."""
        return []

    def export_model(self, run: Run) -> "keras.Model":
        """The run's final model as one Keras model for ``comp export``; a CompError saying why when it cannot be."""
        raise CompError(f"{self.name} runs cannot be exported: the plugin does not build its final model as one "
                        f"network (no export_model hook)")

    def download(self, out_dir: Path) -> Path:
        """Fetch the real data (``comp data``); by default through the Kaggle CLI."""
        if not self.kaggle_slug:
            raise CompError(f"{self.name} has no public download; see `comp data {self.name} --help`")
        return download_competition(self.kaggle_slug, out_dir)


def predict_final(competition: Competition, run: Run, final: FinalCandidate, dataset: Dataset) -> np.ndarray:
    """The final candidate's prediction of the test rows of ``dataset``, shape (n_test,) or (n_test, ...).

    The run's model specs are rebuilt for those rows (``prediction_models``) under the run's config; every fold model
    a member saved is loaded (``load_model``) and predicts them (``predict_test``); the folds are combined and
    post-processed by the spec (``combine_folds``, ``postprocess``) and the members fused as fitted in training
    (``FinalCandidate.fitted_fusion``): the steps that made the run's own test prediction.
    """
    fusion = final.fitted_fusion()
    config = run.config()["config"]
    context = TrainingContext(dataset=dataset, config=config, run=run,
                              cache_dir=default_cache_dir(config))
    specs = {spec.name: spec for spec in competition.prediction_models(context)}
    predictions = {}
    for name in fusion.members:
        if name not in specs:
            raise CompError(f"{run.path}: the final candidate's model {name!r} is not among the models "
                            f"{competition.name} builds from the run's config ({', '.join(specs) or 'none'})")
        spec = specs[name]
        fold_predictions = []
        for directory in saved_fold_models(run, final.scores, name):
            prediction = np.asarray(spec.predict_test(spec.load_model(directory)))
            if prediction.ndim == 0 or prediction.shape[0] != len(dataset.test):
                raise CompError(f"{name}: predict_test gave shape {prediction.shape} for {len(dataset.test)} new "
                                f"rows; it must predict the test rows the spec was built on")
            fold_predictions.append(prediction)
        predictions[name] = spec.postprocess(spec.combine_folds(fold_predictions))
    return fusion.apply(predictions)


def predict_new_data(competition: Competition, run: Run, data_dir: Path, out: Path | None) -> Path:
    """The default ``Competition.predict``: read the new rows (``read_new``), predict them with the final candidate
    (``predict_final``) and write them (``write_predictions``) to ``out``, by default RUN/predictions.csv."""
    final = read_final(run)  # first, so an unfinished run says so before any data is read
    dataset = competition.read_new(Path(data_dir), run.config()["config"])
    prediction = predict_final(competition, run, final, dataset)
    return competition.write_predictions(dataset, prediction, Path(out) if out else run.file("predictions.csv"),
                                         run=run)
