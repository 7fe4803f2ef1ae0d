"""What each ``comp`` verb does, given its parsed arguments."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from comp.engine import train
from comp.errors import CompError
from comp.io import (
    Run,
    parse_weights,
    provenance,
    read_json,
    resolve_config,
    upload_submission,
    write_json,
)
from comp.registry import create_competition, list_competitions
from comp.report import write_report
from comp.vision import export_run
from comp.vision.backbones import get_backbone, list_backbones

logger = logging.getLogger("comp")
TRAIN_FLAGS = ("data", "folds", "trials", "seed", "backbones", "epochs", "time_budget", "storage",
               "allow_bad_test", "mixed_precision", "xla")
RESUME_OVERRIDES = ("trials", "time_budget", "storage", "allow_bad_test")


def run_list(args: argparse.Namespace) -> int:
    if args.backbones:
        for name in list_backbones():
            print(name)
        return 0
    print(f"{'competition':<14} {'data':<10} title")
    for name in list_competitions():
        competition = create_competition(name)
        data_dir = Path(competition.default_config().get("data", f"data/{name}"))
        print(f"{name:<14} {competition.data_status(data_dir):<10} {competition.title}")
    return 0


def train_config(competition, args: argparse.Namespace) -> dict:
    """Resolved config of a new run: defaults < config.toml < --config < flags."""
    flags = {name: getattr(args, name) for name in TRAIN_FLAGS}
    flags["weights"] = parse_weights(args.weights)
    config = resolve_config(competition.default_config(), config_file=args.config, flags=flags)
    if not config.get("data"):
        raise CompError("no data directory: pass --data DIR or set `data` in the config")
    for backbone in config.get("backbones") or []:
        get_backbone(backbone)  # an unknown name fails here, before a run directory is made
    return config


def open_training_run(competition, args: argparse.Namespace) -> tuple[Run, dict]:
    """A fresh run with its config saved, or the run named by --resume with its saved config."""
    if args.resume:
        run = Run.open(args.resume)
        saved = run.config()
        if saved.get("competition") != competition.name:
            raise CompError(f"{run.path} is a {saved.get('competition')} run, not {competition.name}")
        config = {**saved["config"], **{k: getattr(args, k) for k in RESUME_OVERRIDES if getattr(args, k) is not None}}
        run.write_json("config.json", {**saved, "config": config})
        return run, config
    config = train_config(competition, args)
    run = Run.create(config["runs_root"], competition.name, args.out)
    run.write_json("config.json", {"competition": competition.name, "config": config, "provenance": provenance()})
    return run, config


def train_run(competition, run: Run, config: dict) -> dict:
    """Train into ``run`` with its log attached, then write the report."""
    handler = run.attach_log()
    try:
        logger.info("run %s (%s)", run.path, competition.name)
        scores = train(competition, config, run=run)
        report = write_report(run)
        logger.info("report: %s", report)
        return scores
    finally:
        logging.getLogger("comp").removeHandler(handler)
        handler.close()


def run_train(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    run, config = open_training_run(competition, args)
    scores = train_run(competition, run, config)
    print(f"{competition.name}: final {scores['final']['name']} OOF {scores['metric']} "
          f"{scores['final']['score']:.5f}; submission {scores['submission']['copy']}; run {run.path}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    names = [args.competition] if args.competition else list_competitions()
    rows = []
    for name in names:
        competition = create_competition(name)
        data_dir = args.out / name
        n = args.n if args.n is not None else competition.demo_size
        competition.demo(data_dir, n=n, seed=args.seed)
        print(f"{name}: demo data in {data_dir}")
        if not args.train:
            continue
        flags = {**competition.demo_flags, "data": str(data_dir)}
        config = resolve_config(competition.default_config(), flags=flags)
        config["runs_root"] = str(args.out / "runs")
        config["submissions_root"] = str(args.out / "submissions")
        run = Run.create(config["runs_root"], name)
        run.write_json("config.json", {"competition": name, "config": config, "provenance": provenance()})
        scores = train_run(competition, run, config)
        rows.append((name, scores["metric"], scores["final"]["score"], scores["final"]["name"],
                     scores["submission"]["copy"]))
    if rows:
        print(f"\n{'competition':<12} {'metric':<18} {'OOF':>9}  {'final model':<32} submission")
        for name, metric, score, final, path in rows:
            print(f"{name:<12} {metric:<18} {score:>9.5f}  {final:<32} {path}")
    return 0


def run_data(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    out = args.out or Path(competition.default_config().get("data", f"data/{competition.name}"))
    path = competition.download(out)
    print(f"{competition.name}: data in {path}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    run = Run.open(args.run)
    path = competition.predict(run, args.data, args.out)
    print(f"{competition.name}: predictions in {path}")
    return 0


def newest_run(competition_name: str, runs_root: Path) -> Run:
    """The most recent run of a competition that wrote a submission."""
    candidates = list((runs_root / competition_name).glob("*/submission.csv"))
    if not candidates:
        raise CompError(f"no run of {competition_name} with a submission under {runs_root}; train first or pass --file")
    return Run(max(candidates, key=lambda path: path.stat().st_mtime_ns).parent)


def run_submit(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    if not competition.kaggle_slug:
        raise CompError(f"{competition.name} is not a Kaggle competition; upload {args.file or 'the file'} by hand")
    message = args.message
    if args.file:
        path = args.file
    else:
        run = Run.open(args.run) if args.run else newest_run(
            competition.name, Path(competition.default_config().get("runs_root", "runs")))
        path = run.file("submission.csv")
        if not path.exists():
            raise CompError(f"{run.path} has no submission.csv (did its training finish?)")
        if message is None:
            final = read_json(run.file("scores.json")).get("final", {})
            message = f"comp {run.id}: {final.get('name')} OOF {final.get('score', float('nan')):.5f}"
    command = upload_submission(competition.kaggle_slug, Path(path), message or f"comp {Path(path).name}",
                                dry_run=args.dry_run)
    print(command if args.dry_run else f"submitted {path}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    print(write_report(Run.open(args.run)))
    return 0


def run_export(args: argparse.Namespace) -> int:
    print(export_run(Run.open(args.run), args.format, args.out))
    return 0


def run_bench(args: argparse.Namespace) -> int:
    names = [args.competition] if args.competition else list_competitions()
    results = {}
    for name in names:
        result = create_competition(name).bench(data_dir=args.data)
        if result is None:
            logger.info("%s has no benchmark", name)
            continue
        results[name] = result
    if args.out:
        write_json(args.out, results)
    print(json.dumps(results, indent=2))
    return 0
