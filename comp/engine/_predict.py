"""``comp predict`` by default: a finished run's final candidate rebuilt from the fold models its members saved,
applied to new rows and fused as in training."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from comp.contract import Competition, Dataset, TrainingContext
from comp.engine._final import FinalCandidate, read_final
from comp.engine._fold_runner import saved_fold_models
from comp.engine._training import default_cache_dir
from comp.errors import CompError
from comp.io import Run


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
                              cache_dir=Path(config.get("cache_dir") or default_cache_dir()))
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
