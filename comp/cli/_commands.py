"""What each ``comp`` verb does, given its parsed arguments."""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import time
from pathlib import Path
from statistics import fmean

from comp.engine import train
from comp.errors import CompError
from comp.fusion import read_final
from comp.io import (
    DEFAULT_DAILY_SUBMISSIONS,
    DEFAULT_TIME_LIMIT_MINUTES,
    RESUME_OVERRIDES,
    SPEED_SAMPLE,
    Run,
    append_to_ledger,
    config_hash,
    config_layers,
    earlier_submission,
    file_sha256,
    format_ledger,
    kaggle_available,
    kaggle_username,
    ledger_path,
    measure_prediction_speed,
    parse_weights,
    provenance,
    push_bundle,
    read_ledger,
    record_speed,
    recorded_speed,
    refresh_public_scores,
    resolve_config,
    saved_fold_models,
    summarize_ledger,
    time_estimate,
    upload_submission,
    utc_now,
    utc_stamp,
    validate_config,
    write_bundle,
    write_json,
)
from comp.registry import create_competition, list_competitions
from comp.report import write_report
from comp.vision import export_run
from comp.vision.backbones import get_backbone, keras_cache_dir, list_backbones, resolve_weights
from comp.vision.features import POOLINGS
from comp.vision.views import VIEWS
from comp.vision.heads import HEADS

logger = logging.getLogger("comp")
TRAIN_FLAGS = ("data", "folds", "trials", "seed", "backbones", "epochs", "time_budget", "storage", "task", "metric",
               "id_column", "label_column",
               "allow_bad_test", "mixed_precision", "xla", "finetune", "pseudo_labels")


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
    """Resolved config of a new run (defaults < config.toml < --config < flags), checked against the defaults' keys
    and types and the registered names before a run directory is made."""
    flags = {name: getattr(args, name) for name in TRAIN_FLAGS}
    flags["weights"] = parse_weights(args.weights)
    layers = config_layers(competition.default_config(), config_file=args.config, flags=flags,
                           defaults_source=f"{competition.name}'s config.toml")

    def fewest_folds(resolved: dict) -> dict:
        return {"folds": competition.fewest_folds(resolved)}

    config = validate_config(layers, {"backbones": list_backbones(), "heads": HEADS, "views": tuple(VIEWS),
                                      "pooling": POOLINGS}, at_least=fewest_folds)
    recipes = competition.recipes(config)
    if recipes:
        validate_config(layers, {"models": recipes}, at_least=fewest_folds)
    if not config.get("data"):
        raise CompError("no data directory: pass --data DIR or set `data` in the config")
    return config


def open_training_run(competition, args: argparse.Namespace) -> tuple[Run, dict]:
    """A fresh run with its config saved, or the run named by --resume with its saved config."""
    if args.resume:
        run = Run.open(args.resume, competition.name)
        run.lock()
        saved = run.config()
        if saved.get("config_hash", config_hash(saved["config"])) != config_hash(saved["config"]):
            run.unlock()
            raise CompError(f"{run.file('config.json')} was edited after the run started; --resume may change only "
                            f"{', '.join('--' + key.replace('_', '-') for key in RESUME_OVERRIDES)}; start a new run")
        config = {**saved["config"], **{k: getattr(args, k) for k in RESUME_OVERRIDES if getattr(args, k) is not None}}
        run.write_json("config.json", {**saved, "config": config})
        return run, config
    config = train_config(competition, args)
    run = Run.create(config["runs_root"], competition.name, args.out)
    run.lock()
    run.write_json("config.json", {"competition": competition.name, "config": config,
                                   "config_hash": config_hash(config), "provenance": provenance()})
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
    try:
        scores = train_run(competition, run, config)
    except CompError:
        run.unlock()
        run.remove_if_stub()  # refused inputs leave no run directory behind
        raise
    finally:
        run.unlock()
    print(f"{competition.name}: final {scores['final']['name']} OOF {scores['metric']} "
          f"{scores['final']['score']:.5f}; submission {scores['submission']['copy']}; run {run.path}")
    return 0


def demo_budget(flags: dict) -> str:
    """The config overrides of a competition's ``comp demo --train`` (its ``demo_flags``) as ``key=value`` words,
    nested tables as dotted keys, e.g. ``folds=2 epochs=12 crnn.batch_size=8``: what bounds the demo's training."""
    def words(table: dict, prefix: str = "") -> list[str]:
        found = []
        for key, value in table.items():
            if isinstance(value, dict):
                found += words(value, f"{prefix}{key}.")
            else:
                shown = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else value
                found.append(f"{prefix}{key}={shown}")
        return found

    return " ".join(words(flags)) or "the competition's config as it is"


def learning_summary(scores: dict) -> list[str]:
    """Each network's training and validation loss at its first and last epoch, averaged over folds, from a run's
    scores, a line per network (e.g. ``crnn loss 176.7 -> 117.5, validation 220.1 -> 150.3 (2 epochs)``): whether a
    demo budget learns where its score cannot show it (a sequence accuracy of 0); none for models without epochs."""
    lines = []
    for name, model in scores.get("models", {}).items():
        histories = [history for history in model.get("histories") or [] if len(history.get("loss", [])) >= 2]
        if not histories:
            continue
        curves = [f"loss {fmean([history['loss'][0] for history in histories]):.4g} -> "
                  f"{fmean([history['loss'][-1] for history in histories]):.4g}"]
        validated = [history["val_loss"] for history in histories if len(history.get("val_loss", [])) >= 2]
        if validated:
            curves.append(f"validation {fmean([curve[0] for curve in validated]):.4g} -> "
                          f"{fmean([curve[-1] for curve in validated]):.4g}")
        epochs = sorted({len(history["loss"]) for history in histories})
        span = f"{epochs[0]}" if len(epochs) == 1 else f"{epochs[0]}-{epochs[-1]}"
        lines.append(f"{name} {', '.join(curves)} ({span} epochs)")
    return lines


def run_demo(args: argparse.Namespace) -> int:
    names = [args.competition] if args.competition else list_competitions()
    rows, budgets = [], []
    for name in names:
        started = time.perf_counter()
        competition = create_competition(name)
        data_dir = args.out / name
        n = args.n if args.n is not None else competition.demo_size
        if args.task and args.task not in competition.demo_tasks:
            raise CompError(f"demo --task {args.task}: {name} draws "
                            f"{', '.join(competition.demo_tasks) or 'one kind of data only'}")
        competition.demo(data_dir, n=n, seed=args.seed, **({"task": args.task} if args.task else {}))
        print(f"{name}: demo data in {data_dir}")
        if not args.train:
            continue
        flags = {**competition.demo_flags, "data": str(data_dir), **({"task": args.task} if args.task else {})}
        config = resolve_config(competition.default_config(), flags=flags)
        config["runs_root"] = str(args.out / "runs")
        config["submissions_root"] = str(args.out / "submissions")
        run = Run.create(config["runs_root"], name)
        run.write_json("config.json", {"competition": name, "config": config, "provenance": provenance()})
        scores = train_run(competition, run, config)
        rows.append((name, scores["metric"], scores["final"]["score"], scores["final"]["name"],
                     scores["submission"]["copy"]))
        budgets.append((name, demo_budget(competition.demo_flags), (time.perf_counter() - started) / 60,
                        learning_summary(scores)))
    if rows:
        print(f"\n{'competition':<12} {'metric':<18} {'OOF':>9}  {'final model':<32} submission")
        for name, metric, score, final, path in rows:
            print(f"{name:<12} {metric:<18} {score:>9.5f}  {final:<32} {path}")
        print("\ndemo budget (config overrides of demo --train) and wall time of data + training:")
        for name, budget, minutes, learning in budgets:
            print(f"  {name:<12} {budget}: {minutes:.1f} min")
            for line in learning:
                print(f"  {'':<12} {line}")
    return 0


def run_data(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    out = args.out or Path(competition.default_config().get("data", f"data/{competition.name}"))
    path = competition.download(out)
    print(f"{competition.name}: data in {path}")
    return 0


def run_predict(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    run = Run.open(args.run, competition.name)
    out = Path(args.out) if args.out else run.file("predictions.csv")
    if out.name == "submission.csv" and (out.parent / "config.json").is_file():
        raise CompError(f"--out {out} is a run's submission; write predictions elsewhere (it is never overwritten)")
    if out.exists() and not args.overwrite:
        raise CompError(f"--out {out} exists; pass --overwrite to replace it, or choose another --out")
    run.lock()
    try:
        path = competition.predict(run, args.data, out)
    finally:
        run.unlock()
    print(f"{competition.name}: predictions in {path}")
    return 0


def newest_run(competition_name: str, runs_root: Path) -> Run:
    """The most recent run of a competition that wrote a submission."""
    candidates = list((runs_root / competition_name).glob("*/submission.csv"))
    if not candidates:
        raise CompError(f"no run of {competition_name} with a submission under {runs_root}; train first or pass --file")
    return Run(max(candidates, key=lambda path: path.stat().st_mtime_ns).parent)


def submission_config(competition, config_file: Path | None) -> dict:
    """The competition's resolved defaults (config.toml < --config FILE): the data, ``submissions_root``,
    ``daily_submissions`` and ``kernel_time_limit_minutes`` of ``submit --file``, ``submissions`` and ``bundle``."""
    return resolve_config(competition.default_config(), config_file=config_file)


def daily_quota(config: dict) -> int:
    return int(config.get("daily_submissions") or DEFAULT_DAILY_SUBMISSIONS)


def guard_submission(competition, path: Path, data_dir: str | Path | None, *, force: bool) -> bool:
    """Judge ``path`` by the plugin's rules; a one-line CompError when it fails, unless ``force`` (then say so and
    return True: the upload was forced)."""
    try:
        competition.validate_submission_file(path, Path(data_dir) if data_dir else None)
    except CompError as error:
        if not force:
            raise CompError(f"{path} would be rejected or mis-scored: {error}; nothing uploaded "
                            f"(--force uploads it anyway)") from error
        print(f"--force: uploading {path} although it fails the submission guard: {error}")
        return True
    return False


def refuse_repeated_file(ledger, digest: str, path: Path, *, force: bool) -> bool:
    """A one-line CompError when a file with the same sha256 was submitted before, unless ``force`` (then say so and
    return True)."""
    earlier = earlier_submission(ledger, digest)
    if earlier is None:
        return False
    what = (f"{path} is identical (sha256 {digest[:12]}) to the file submitted at {earlier['time']} "
            f"({earlier['message']!r})")
    if not force:
        raise CompError(f"{what}; nothing uploaded (--force submits it again)")
    print(f"--force: {what}; submitting it again")
    return True


def run_submit(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    if not competition.kaggle_slug:
        raise CompError(f"{competition.name} is not a Kaggle competition; upload {args.file or 'the file'} by hand")
    defaults = submission_config(competition, args.config)
    run, scores = None, {}
    if args.file:
        path, config = Path(args.file), defaults
        if not path.is_file():
            raise CompError(f"submission file {path} does not exist")
    else:
        run = Run.open(args.run) if args.run else newest_run(competition.name, Path(defaults["runs_root"]))
        path, config = run.file("submission.csv"), run.config()["config"]
        if not path.exists():
            raise CompError(f"{run.path} has no submission.csv (did its training finish?)")
        scores = run.read_json("scores.json", default={})
    final = scores.get("final", {})
    message = args.message or (f"comp {run.id}: {final.get('name')} OOF {final.get('score', float('nan')):.5f}"
                               if run else f"comp {path.name}")
    forced = guard_submission(competition, path, args.data or config.get("data"), force=args.force)
    ledger = ledger_path(config.get("submissions_root") or defaults["submissions_root"], competition.name)
    digest = file_sha256(path)
    forced = refuse_repeated_file(read_ledger(ledger), digest, path, force=args.force) or forced
    moment = utc_now()
    command = upload_submission(competition.kaggle_slug, path, message, dry_run=args.dry_run)
    if args.dry_run:
        print(command)
        return 0
    try:
        append_to_ledger(ledger, {
            "time": utc_stamp(moment), "run_id": run.id if run else "", "file": str(path), "sha256": digest,
            "metric": scores.get("metric", competition.metric.name),
            "direction": scores.get("direction", competition.metric.direction), "cv_score": final.get("score"),
            "final_candidate": final.get("name"), "message": message, "forced": forced})
    except CompError as error:
        raise CompError(f"submitted {path}, but the ledger was not updated: {error}") from error
    summary = summarize_ledger(refresh_public_scores(ledger, competition.kaggle_slug),
                               daily_quota=daily_quota(defaults))
    print(f"submitted {path}; recorded in {ledger}; {summary.left_today} of {summary.daily_quota} submissions "
          f"left today (UTC)")
    return 0


def run_submissions(args: argparse.Namespace) -> int:
    competition = create_competition(args.competition)
    config = submission_config(competition, args.config)
    path = ledger_path(config["submissions_root"], competition.name)
    refresh = args.refresh if args.refresh is not None else bool(competition.kaggle_slug) and kaggle_available()
    if refresh and competition.kaggle_slug and path.exists():
        ledger = refresh_public_scores(path, competition.kaggle_slug)
    else:
        ledger = read_ledger(path)
    if ledger.empty:
        print(f"no submissions recorded in {path} yet")
        return 0
    print(format_ledger(ledger, summarize_ledger(ledger, daily_quota=daily_quota(config))))
    return 0


def bundled_weights(config: dict) -> dict[str, Path]:
    """The local file of every weights the run's config points at: its backbones' (ImageNet weights must be on this
    machine: a code competition's kernel has no internet) and any other file in ``weights``."""
    sources = config.get("weights") or {}
    files = {}
    for name in config.get("backbones") or []:
        spec = get_backbone(name)
        resolved = resolve_weights(spec, sources.get(name, config.get("default_weights", "imagenet")))
        if resolved.kind == "imagenet":
            raise CompError(f"the ImageNet weights of {name} ({spec.weights_filename}) are not on this machine "
                            f"($COMP_WEIGHTS_DIR or {keras_cache_dir()}); the kernel runs without internet, so the "
                            f"bundle must carry them: put the file there and bundle again")
        if resolved.kind == "file":
            files[name] = Path(resolved.path)
    for name, source in sources.items():
        if name not in files and source not in ("imagenet", "none"):
            if not Path(source).expanduser().is_file():
                raise CompError(f"weights file for {name} not found: {source} (the bundle must carry it)")
            files[name] = Path(source).expanduser()
    return files


def bundle_speed(run: Run, competition: str):
    """The run's recorded prediction speed, else measured now on its own test images and recorded; None (with one
    logged line saying why) when it cannot be measured."""
    speed = recorded_speed(run)
    if speed is not None:
        logger.info("prediction speed recorded in %s", run.file("prediction_speed.json"))
        return speed
    try:
        paths = [Path(path) for path in run.rows()["test"].get("path", [])]
        logger.info("timing `comp predict` on up to %d of the run's test images (fresh processes, empty cache)",
                    min(len(paths), SPEED_SAMPLE))
        speed = measure_prediction_speed(run, competition, paths)
    except CompError as error:
        logger.warning("prediction speed not measured: %s", error)
        return None
    record_speed(run, speed)
    return speed


def run_bundle(args: argparse.Namespace) -> int:
    run = Run.open(args.run)
    saved = run.config()
    competition = create_competition(saved["competition"])
    if not competition.kaggle_slug:
        raise CompError(f"{competition.name} is not a Kaggle competition: a bundle is a Kaggle dataset and kernel")
    owner = args.owner or kaggle_username()
    if not owner:
        raise CompError("no Kaggle user name for the bundle's dataset and kernel ids: pass --owner USER, or set "
                        "KAGGLE_USERNAME (or `username` in ~/.kaggle/kaggle.json)")
    config, defaults = saved["config"], submission_config(competition, None)
    final = read_final(run)
    model_dirs = [directory for member in final.members for directory in saved_fold_models(run, final.scores, member)]
    weights = bundled_weights(config)
    speed = bundle_speed(run, competition.name)
    gpu = config.get("kernel_gpu", defaults.get("kernel_gpu", config.get("mixed_precision", False)))
    bundle = write_bundle(run, args.out or run.file("bundle"), competition=competition.name,
                          kaggle_slug=competition.kaggle_slug, owner=owner, model_dirs=model_dirs, weights=weights,
                          enable_gpu=bool(gpu), speed=speed)
    print(f"dataset {bundle.dataset_id}: {bundle.dataset}\nkernel {bundle.kernel_id}: {bundle.kernel}")
    test_size = args.test_size if args.test_size is not None else len(run.rows()["test"]) if run.file(
        "rows.json").is_file() else None
    limit = float(config.get("kernel_time_limit_minutes") or defaults.get("kernel_time_limit_minutes")
                  or DEFAULT_TIME_LIMIT_MINUTES)
    if speed is not None and test_size is not None:
        print(time_estimate(speed, test_size, limit))
    if args.push or args.dry_run:
        commands = push_bundle(bundle, dry_run=args.dry_run)
        print("\n".join(shlex.join(command) for command in commands) if args.dry_run else
              f"pushed the dataset {bundle.dataset_id} and the kernel {bundle.kernel_id}")
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
