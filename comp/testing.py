"""``check_competition``: a plugin's hooks run on its own demo data and checked against the contract, the way
scikit-learn's ``check_estimator`` checks an estimator. The first broken promise stops it with a one-line
AssertionError naming the hook and what is wrong."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Iterator, NoReturn

import numpy as np
import pandas as pd

from comp.contract import Competition, Dataset, FitContext, FoldResult, ModelSpec, TrainingContext
from comp.engine import check_fold_result, fold_seed, seed_everything
from comp.errors import CompError
from comp.folds import fold_indices
from comp.io import Run, resolve_config

TOLERANCE = 1e-6  # two fits of one fold with one seed may differ this much (float32 Keras kernels), no more
COLUMNS = {"train": ("id", "path", "label"), "test": ("id", "path")}


def check_competition(competition: Competition, tmp_dir: Path, *, n: int | None = None, seed: int = 0,
                      flags: dict | None = None) -> None:
    """Run ``competition``'s hooks on ``n`` rows of its own demo data (``demo_size`` by default, drawn with ``seed``)
    under its demo config (``default_config`` and ``demo_flags``, as ``comp demo --train``; ``flags`` over them, e.g.
    fewer training steps where the hooks and not the accuracy are under test), writing under ``tmp_dir``, and raise an AssertionError at the first broken promise of the contract:

    ``read`` gives a Dataset whose train has id, path and label and whose test has id and path, ids unique and all
    strings or all integers; ``models`` gives ModelSpecs with unique, non-empty names; ``folds`` gives every training
    row one fold of 0..k-1, none empty; per spec, fold 0's ``fit_fold`` passes ``comp.engine.check_fold_result`` and a
    second fit with the same seed predicts the same (within 1e-6); ``write_submission`` accepts that fold's test
    prediction; a saved fold model loads back (``save_model``/``load_model``) and, with ``predict_test``, predicts the
    test rows as the fit did. One fold per spec keeps it to about two fits of each model.
    """
    tmp_dir = Path(tmp_dir)
    size = competition.demo_size if n is None else n
    with hook(competition, "demo"):
        data_dir = competition.demo(tmp_dir / "data", size, seed)
    if not Path(data_dir).is_dir():
        fail(competition, "demo", f"returned {data_dir!r}, not the directory it wrote")
    config = resolve_config(competition.default_config(), flags={**competition.demo_flags, **(flags or {}),
                                                                           "data": str(data_dir)})
    config.update(runs_root=str(tmp_dir / "runs"), submissions_root=str(tmp_dir / "submissions"),
                  cache_dir=str(tmp_dir / "cache"))
    seed_everything(int(config["seed"]))
    with hook(competition, "read"):
        dataset = competition.read(Path(data_dir), config)
    check_dataset(competition, dataset)
    run = Run.create(config["runs_root"], competition.name)
    run.write_json("config.json", {"competition": competition.name, "config": config})
    with hook(competition, "models"):
        specs = competition.models(TrainingContext(dataset=dataset, config=config, run=run,
                                                   cache_dir=Path(config["cache_dir"])))
    check_specs(competition, specs)
    n_folds = int(config["folds"])
    with hook(competition, "folds"):
        fold_of_row = competition.folds(dataset, n_folds, int(config["seed"]))
    check_folds(competition, fold_of_row, n_rows=len(dataset.train), n_folds=n_folds)
    for spec in specs:
        check_spec(competition, spec, dataset, fold_of_row, seed=fold_seed(int(config["seed"]), 0), run=run,
                   scratch=tmp_dir / "check")


def fail(competition: Competition, where: str, what: str) -> NoReturn:
    """Stop the check: ``<competition>: <hook> <what is wrong>``."""
    raise AssertionError(f"{competition.name}: {where} {what}")


@contextlib.contextmanager
def hook(competition: Competition, where: str) -> Iterator[None]:
    """Report an exception raised inside the hook ``where`` as a one-line AssertionError naming it."""
    try:
        yield
    except AssertionError:
        raise
    except Exception as error:
        message = (str(error).splitlines() or [""])[0]
        fail(competition, where, f"raised {type(error).__name__}: {message}")


def id_kind(value) -> str:
    """"string" or "integer" for a valid row id, else the value's type name."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return "integer"
    return type(value).__name__


def check_dataset(competition: Competition, dataset) -> None:
    """``read``'s Dataset: the train and test tables with their columns, and unique ids of one kind per table."""
    if not isinstance(dataset, Dataset):
        fail(competition, "read", f"returned {type(dataset).__name__}, not a comp.Dataset")
    for part, columns in COLUMNS.items():
        table = getattr(dataset, part)
        if not isinstance(table, pd.DataFrame):
            fail(competition, "read", f"gave a {part} table of type {type(table).__name__}, not a pandas DataFrame")
        missing = [column for column in columns if column not in table]
        if missing:
            fail(competition, "read", f"gave a {part} table without the {missing[0]!r} column "
                                      f"(it has {', '.join(map(str, table.columns))})")
        duplicated = table["id"][table["id"].duplicated()]
        if len(duplicated):
            fail(competition, "read", f"gave {part} id {duplicated.iloc[0]!r} to more than one row")
        kinds = {id_kind(value): value for value in table["id"]}
        odd = [kind for kind in kinds if kind not in ("string", "integer")]
        if odd:
            fail(competition, "read", f"gave {part} id {kinds[odd[0]]!r} of type {odd[0]}; ids are strings or "
                                      f"integers")
        if len(kinds) > 1:
            fail(competition, "read", f"mixes string and integer {part} ids ({kinds['string']!r} and "
                                      f"{kinds['integer']!r}); use one kind")
    if dataset.train.empty:
        fail(competition, "read", "gave no training rows from the demo data")


def check_specs(competition: Competition, specs) -> None:
    """``models``: a non-empty list of ModelSpecs with unique, non-empty names."""
    if not isinstance(specs, (list, tuple)) or not specs:
        fail(competition, "models", f"returned {specs!r}; expected a non-empty list of ModelSpecs")
    seen = set()
    for spec in specs:
        if not isinstance(spec, ModelSpec):
            fail(competition, "models", f"returned a {type(spec).__name__}, not a comp.ModelSpec")
        if not isinstance(spec.name, str) or not spec.name:
            fail(competition, "models", f"returned a {type(spec).__name__} without a name (set ModelSpec.name)")
        if spec.name in seen:
            fail(competition, "models", f"returned two specs named {spec.name!r}; names must be unique in a run")
        seen.add(spec.name)


def check_folds(competition: Competition, fold_of_row, *, n_rows: int, n_folds: int) -> None:
    """``folds``: one integer fold of 0..n_folds-1 per training row, every fold holding some rows."""
    folds = np.asarray(fold_of_row)
    if folds.shape != (n_rows,):
        fail(competition, "folds", f"returned shape {folds.shape}; expected ({n_rows},), one fold per training row")
    if folds.dtype.kind not in "iu":
        fail(competition, "folds", f"returned dtype {folds.dtype}; folds are integers")
    outside = np.flatnonzero((folds < 0) | (folds >= n_folds))
    if len(outside):
        fail(competition, "folds", f"gave row {outside[0]} fold {folds[outside[0]]}, outside 0..{n_folds - 1}")
    empty = [fold for fold in range(n_folds) if not np.any(folds == fold)]
    if empty:
        fail(competition, "folds", f"left fold {empty[0]} of {n_folds} without rows")


def difference(first, second) -> str | None:
    """Where two predictions of the same rows differ (numbers by more than TOLERANCE); None when they agree."""
    first, second = np.asarray(first), np.asarray(second)
    if first.shape != second.shape:
        return f"in shape, {first.shape} and {second.shape}"
    if first.size == 0:
        return None
    if first.dtype.kind in "biuf" and second.dtype.kind in "biuf":
        gap = np.abs(first.astype(float) - second.astype(float)).reshape(len(first), -1).max(axis=1)
        row = int(np.argmax(gap))
        return f"at row {row} by {gap[row]:.3g} (more than {TOLERANCE:g})" if gap[row] > TOLERANCE else None
    unequal = np.flatnonzero((first.astype(str) != second.astype(str)).reshape(len(first), -1).any(axis=1))
    return f"at row {unequal[0]}: {first[unequal[0]]!r} and {second[unequal[0]]!r}" if len(unequal) else None


def fit_fold(competition: Competition, spec: ModelSpec, fold_of_row: np.ndarray, seed: int, n_test: int):
    """Fold 0 of ``spec`` fitted with its default parameters and checked as the fold runner checks it."""
    train_index, valid_index = fold_indices(fold_of_row, 0)
    with hook(competition, f"{spec.name}.fit_fold"):
        result = spec.fit_fold(spec.default_params(), train_index, valid_index, FitContext(seed=seed, fold=0))
    try:
        check_fold_result(result, spec.name, 0, n_valid=len(valid_index), n_test=n_test)
    except CompError as error:
        fail(competition, f"{spec.name}.fit_fold", f"returned a bad fold: {error}")
    return result


def check_spec(competition: Competition, spec: ModelSpec, dataset: Dataset, fold_of_row: np.ndarray, *, seed: int,
               run: Run, scratch: Path) -> None:
    """One spec on fold 0: a valid FoldResult, the same predictions from a second fit, a submission written from it,
    and its saved model loaded back predicting the same test rows."""
    first: FoldResult = fit_fold(competition, spec, fold_of_row, seed, len(dataset.test))
    second = fit_fold(competition, spec, fold_of_row, seed, len(dataset.test))
    for part in ("valid_prediction", "test_prediction"):
        changed = difference(getattr(first, part), getattr(second, part))
        if changed:
            fail(competition, f"{spec.name}.fit_fold", f"is not deterministic: two fits of fold 0 with seed {seed} "
                                                       f"differ in {part} {changed}; seed everything from "
                                                       f"context.seed")
    with hook(competition, f"{spec.name}.combine_folds/postprocess"):
        prediction = spec.postprocess(spec.combine_folds([np.asarray(first.test_prediction)]))
    with hook(competition, "write_submission"):
        written = competition.write_submission(dataset, prediction, run=run,
                                               submissions_root=scratch / "submissions")
    if not (isinstance(written, tuple) and len(written) == 2 and all(Path(path).exists() for path in written)):
        fail(competition, "write_submission", f"returned {written!r}; expected (the run's file, its copy), both "
                                              f"written")
    if first.model is None:
        return
    directory = scratch / "models" / spec.name
    with hook(competition, f"{spec.name}.save_model"):
        spec.save_model(first.model, directory)
    if not directory.is_dir() or not any(directory.iterdir()):
        return  # the spec saves no fold models (the default save_model)
    with hook(competition, f"{spec.name}.load_model"):
        loaded = spec.load_model(directory)
    if type(spec).predict_test is ModelSpec.predict_test:
        return
    with hook(competition, f"{spec.name}.predict_test"):
        again = spec.predict_test(loaded)
    changed = difference(first.test_prediction, again)
    if changed:
        fail(competition, f"{spec.name}.save_model/load_model", f"do not round-trip: the loaded model's predict_test "
                                                                f"differs from the fit's test_prediction {changed}")
