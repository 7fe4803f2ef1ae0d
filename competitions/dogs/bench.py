"""``comp bench dogs``: extraction throughput against in-memory predict, fine-tuning throughput against in-memory
``train_on_batch``, cold vs warm-cache train, head cost, memory.

Runs on the real sample in ../shared when present (else on generated demo data), with SqueezeNet and the
shared ImageNet weights when present (else random weights, said so in the output). The cold/warm comparison also
runs the competition's default backbones, on random weights unless ImageNet copies are local (the same compute).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna

from comp._lazy import lazy_import
from comp.io import machine
from comp.vision.backbones import get_backbone, resolve_weights
from comp.vision.features import (
    build_extractor,
    decoded_images,
    distribution_strategy,
    forward_function,
    precision_policy,
)
from comp.vision.finetune import finetune_throughput
from competitions.dogs.demo import write_demo
from competitions.dogs.reader import read_dataset

tf = lazy_import("tensorflow")

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
BACKBONE = "squeezenet1_1"
# Fine-tuning is timed on an epoch of 1,024 images, about a dogs fold's (1,360 training rows: 2,000 less a fifth held
# out less the 15% inner split): a fit pays a fixed start (its first step took 0.6 s against 0.41 s), which on 256
# images weighed 8% of the epoch.
FINETUNE_IMAGES = 1024


def _data_and_weights(data_dir: Path | None, scratch: Path) -> tuple[Path, str]:

    if data_dir is None:
        shared_data = SHARED / "data" / "dogs-vs-cats"
        data_dir = shared_data if shared_data.is_dir() else write_demo(scratch / "demo", n=400, seed=0)
    shared_weights = SHARED / "weights" / "squeezenet_v1.1_imagenet_notop.h5"
    return Path(data_dir), str(shared_weights) if shared_weights.exists() else "none"


def local_imagenet_weights(backbone: str) -> str | None:
    """A local copy of the backbone's ImageNet weights ($COMP_WEIGHTS_DIR or the Keras cache), else None."""
    resolved = resolve_weights(get_backbone(backbone), "imagenet")
    return resolved.path if resolved.kind == "file" else None


def extraction_throughput(paths: list[str], weights_source: str, *, batch_size: int = 32,
                          mixed_precision: bool = False, xla: bool = False) -> dict:
    """Images/s of decode+resize+forward through the tf.data pipeline vs ``model.predict`` on decoded arrays."""


    backbone = get_backbone(BACKBONE)
    weights = resolve_weights(backbone, weights_source)
    with precision_policy(mixed_precision):
        model = build_extractor(backbone, weights, "avg")
    step = forward_function({BACKBONE: model}, {BACKBONE: ["orig"]}, distribution_strategy(), xla)
    for _, images in decoded_images(paths[:batch_size], backbone.input_size, batch_size):
        step(images)  # trace and warm up outside the timing
    started = time.perf_counter()
    for _, images in decoded_images(paths, backbone.input_size, batch_size):
        np.asarray(step(images)[(BACKBONE, "orig")])
    pipeline_seconds = time.perf_counter() - started
    decoded = np.concatenate([images.numpy() for _, images in decoded_images(paths, backbone.input_size, 64)])
    model.predict(decoded[:batch_size], batch_size=batch_size, verbose=0)
    started = time.perf_counter()
    model.predict(decoded, batch_size=batch_size, verbose=0)
    predict_seconds = time.perf_counter() - started
    return {
        "images": len(paths),
        "pipeline_images_per_s": round(len(paths) / pipeline_seconds, 1),
        "in_memory_predict_images_per_s": round(len(paths) / predict_seconds, 1),
        "ratio": round(predict_seconds / pipeline_seconds, 3),
        "mixed_precision": mixed_precision,
        "xla": xla,
        "gpus": len(tf.config.list_physical_devices("GPU")),
    }


def timed_train(data_dir: Path, weights: dict[str, str], scratch: Path, *, trials: int, heads: list[str],
                views: list[str], references: bool, runs=("cold", "warm")) -> dict:
    """Wall time of ``comp train`` with an empty feature cache, then again with the cache it filled.

    ``weights`` maps each backbone to its weights source. The cache lives in ``scratch/cache-<backbones>``;
    ``runs=("warm",)`` reuses one filled earlier.
    """
    backbones = "-".join(weights)
    name = f"{backbones}-{'-'.join(heads)}-t{trials}"
    config = scratch / f"{name}.toml"
    config.write_text(f"heads = {heads!r}\nviews = {views!r}\nreferences = {str(references).lower()}\n"
                      .replace("'", '"'))
    environment = {**os.environ, "COMP_CACHE_DIR": str(scratch / f"cache-{backbones}")}
    timings = {}
    for label in runs:
        command = [sys.executable, "-m", "comp.cli", "train", "dogs", "--data", str(data_dir),
                   "--backbones", ",".join(weights), "--folds", "5", "--trials", str(trials), "--config", str(config),
                   "--out", str(scratch / f"{name}-{label}")]
        for backbone, source in weights.items():
            command += ["--weights", f"{backbone}={source}"]
        started = time.perf_counter()
        result = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=scratch)
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            raise RuntimeError(f"benchmark train failed: {result.stderr.strip().splitlines()[-1]}")
        match = re.search(r"(\d+) computed in ([\d.]+) s", result.stderr)
        timings[label] = {"wall_s": round(seconds, 1), "images_extracted": int(match.group(1)),
                          "feature_stage_s": float(match.group(2)), "run": str(scratch / f"{name}-{label}")}
    summary = {"backbones": list(weights), "weights": weights,
               "train_images": len(list((data_dir / "train").iterdir())),
               "test_images": len(list((data_dir / "test").iterdir())),
               "trials_per_model": trials, "heads": heads, "views": views, **timings}
    if "cold" in timings:
        summary["warm_over_cold"] = round(timings["warm"]["wall_s"] / timings["cold"]["wall_s"], 3)
    return summary


def head_seconds_per_trial(run_dir: Path) -> dict:
    """Mean seconds of one k-fold trial per head, from the trials the benchmark run recorded."""
    storage = f"sqlite:///{run_dir / 'study.db'}"
    seconds: dict[str, list[float]] = {}
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        head = summary.study_name.split(".")[1].split("@")[0]
        seconds.setdefault(head, []).extend(t.user_attrs["seconds"] for t in study.trials if "seconds" in t.user_attrs)
    return {head: round(float(np.mean(values)), 3) for head, values in seconds.items() if values}


def run_benchmark(data_dir: Path | None, config: dict) -> dict:
    """Every dogs measurement as one JSON-ready dict; ``config`` is the plugin's defaults (backbones, views)."""


    with tempfile.TemporaryDirectory(prefix="comp-bench-") as scratch:
        scratch = Path(scratch)
        data_dir, weights_source = _data_and_weights(data_dir, scratch)
        paths = read_dataset(data_dir).train["path"].tolist()[:FINETUNE_IMAGES]
        throughput = [extraction_throughput(paths[:512], weights_source)]
        finetuning = [finetune_throughput(paths, BACKBONE, weights_source)]
        if tf.config.list_physical_devices("GPU"):
            throughput += [extraction_throughput(paths[:512], weights_source, mixed_precision=True),
                           extraction_throughput(paths[:512], weights_source, mixed_precision=True, xla=True)]
            finetuning += [finetune_throughput(paths, BACKBONE, weights_source, mixed_precision=True, xla=True)]
        # Cache effect: cheap heads and no tuning, so the difference is the feature stage. First the competition's
        # default backbones (random weights when ImageNet ones cannot be had: the same compute), then SqueezeNet,
        # the cheapest backbone, where the fixed cost of a run weighs most.
        default_weights = {name: local_imagenet_weights(name) or "none" for name in config["backbones"]}
        cache_effect = [
            timed_train(data_dir, default_weights, scratch, trials=0, heads=["logistic"], views=config["views"],
                        references=False),
            timed_train(data_dir, {BACKBONE: weights_source}, scratch, trials=0, heads=["logistic"],
                        views=config["views"], references=False),
        ]
        tuning = timed_train(data_dir, {BACKBONE: weights_source}, scratch, trials=3, heads=["logistic", "dense"],
                             views=["orig"], references=False, runs=("warm",))
        heads = head_seconds_per_trial(Path(tuning["warm"]["run"]))
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "data": str(data_dir),
        "weights": "random (none)" if weights_source == "none" else weights_source,
        "machine": machine(),
        "extraction": throughput,
        "finetune_training": finetuning,
        "train_cold_vs_warm_cache": cache_effect,
        "tuning_run": tuning,
        "head_seconds_per_trial": heads,
        "peak_memory_mb": {"bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                           "largest_train_process": round(children / 1024, 1)},
    }
