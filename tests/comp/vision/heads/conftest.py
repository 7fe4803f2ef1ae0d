"""A tiny trained dogs run (random-weight SqueezeNet, logistic heads on three feature sets, 2 folds), trained once
in-process for the tests of what a finished feature-head run is rebuilt into."""

import shutil

import pytest

from comp.engine import train
from comp.io import Run, resolve_config
from competitions.dogs import DogsCompetition
from competitions.dogs.demo import write_demo
from competitions.images import ImagesCompetition
from competitions.images.demo import DEMO_TASKS
from competitions.images.demo import write_demo as write_images_demo


@pytest.fixture(scope="session")
def tiny_dogs_run(tmp_path_factory) -> Run:
    """Models logistic@squeezenet1_1.{orig,flip,tta} and every fusion candidate (blend, stack, +clip) recorded."""
    root = tmp_path_factory.mktemp("tiny_dogs")
    competition = DogsCompetition()
    config = resolve_config(competition.default_config(), flags={
        "data": str(write_demo(root / "data", n=40, seed=0)), "backbones": ["squeezenet1_1"],
        "weights": {"squeezenet1_1": "none"}, "heads": ["logistic"], "references": False, "folds": 2, "trials": 0,
        "seed": 3, "cache_dir": str(root / "cache"), "runs_root": str(root / "runs"),
        "submissions_root": str(root / "submissions")})
    run = Run.create(root / "runs", competition.name)
    run.write_json("config.json", {"competition": competition.name, "config": config})
    train(competition, config, run=run)
    return run


@pytest.fixture(scope="session")
def tiny_dogs_test_paths(tiny_dogs_run) -> list[str]:
    """The tiny run's test images, in the order of its test predictions."""
    return [str(path) for path in tiny_dogs_run.rows()["test"]["path"]]


def run_with_final(run: Run, name: str, directory) -> Run:
    """A copy of ``run`` whose final candidate is ``name`` (one of its models or fusion candidates)."""
    copy = Run(shutil.copytree(run.path, directory / run.path.name))
    scores = copy.read_json("scores.json")
    scores["final"] = {"name": name, "score": {**scores["models"], **scores["fusion"]}[name]["score"]}
    copy.write_json("scores.json", scores)
    return copy


@pytest.fixture(scope="session")
def tiny_task_runs(tmp_path_factory) -> dict[str, Run]:
    """A tiny trained ``images`` run per task type (multiclass, multilabel, regression) on generated shapes: random
    SqueezeNet, logistic heads on three feature sets, 2 folds, every fusion candidate recorded."""
    runs = {}
    for task in DEMO_TASKS:
        root = tmp_path_factory.mktemp(f"tiny_{task}")
        competition = ImagesCompetition()
        config = resolve_config(competition.default_config(), flags={
            "data": str(write_images_demo(root / "data", n=40, seed=1, task=task)), "backbones": ["squeezenet1_1"],
            "weights": {"squeezenet1_1": "none"}, "heads": ["logistic"], "references": False, "folds": 2,
            "trials": 0, "seed": 3, "task": task, "cache_dir": str(root / "cache"), "runs_root": str(root / "runs"),
            "submissions_root": str(root / "submissions")})
        run = Run.create(root / "runs", competition.name)
        run.write_json("config.json", {"competition": competition.name, "config": config})
        train(competition, config, run=run)
        runs[task] = run
    return runs
