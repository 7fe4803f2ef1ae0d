"""``comp bench dogs``: extraction throughput against in-memory predict, cold vs warm-cache train, head cost, memory.

Runs on the real sample in ../shared when present (else on generated demo data), with SqueezeNet and the
shared ImageNet weights when present (else random weights, said so in the output).
"""

from __future__ import annotations

import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
BACKBONE = "squeezenet1_1"


def _data_and_weights(data_dir: Path | None, scratch: Path) -> tuple[Path, str]:
    from competitions.dogs.demo import write_demo

    if data_dir is None:
        shared_data = SHARED / "data" / "dogs-vs-cats"
        data_dir = shared_data if shared_data.is_dir() else write_demo(scratch / "demo", n=400, seed=0)
    shared_weights = SHARED / "weights" / "squeezenet_v1.1_imagenet_notop.h5"
    return Path(data_dir), str(shared_weights) if shared_weights.exists() else "none"


def extraction_throughput(paths: list[str], weights_source: str, *, batch_size: int = 32,
                          mixed_precision: bool = False, xla: bool = False) -> dict:
    """Images/s of decode+resize+forward through the tf.data pipeline vs ``model.predict`` on decoded arrays."""
    import tensorflow as tf

    from comp.backbones import resolve_weights
    from comp.features import _distribution_strategy, _forward_function, _precision, build_extractor, decoded_images
    from comp.registry import get_backbone

    backbone = get_backbone(BACKBONE)
    weights = resolve_weights(backbone, weights_source)
    with _precision(mixed_precision):
        model = build_extractor(backbone, weights, "avg")
    step = _forward_function({BACKBONE: model}, {BACKBONE: ["orig"]}, _distribution_strategy(), xla)
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


def _timed_train(data_dir: Path, weights_source: str, cache_dir: Path, out: Path, trials: int) -> dict:
    config = out.parent / "bench.toml"
    config.write_text('heads = ["logistic", "dense"]\n')
    command = [sys.executable, "-m", "comp.cli", "train", "dogs", "--data", str(data_dir), "--backbones", BACKBONE,
               "--weights", f"{BACKBONE}={weights_source}", "--folds", "5", "--trials", str(trials),
               "--config", str(config), "--out", str(out)]
    environment = {**os.environ, "COMP_CACHE_DIR": str(cache_dir)}
    started = time.perf_counter()
    result = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=out.parent)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"benchmark train failed: {result.stderr.strip().splitlines()[-1]}")
    match = re.search(r"(\d+) computed in ([\d.]+) s", result.stderr)
    return {"wall_s": round(seconds, 1), "images_extracted": int(match.group(1)),
            "feature_stage_s": float(match.group(2))}


def head_seconds_per_trial(run_dir: Path) -> dict:
    """Mean seconds of one k-fold trial per head, from the trials the benchmark run recorded."""
    import optuna

    storage = f"sqlite:///{run_dir / 'study.db'}"
    seconds: dict[str, list[float]] = {}
    for summary in optuna.get_all_study_summaries(storage):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        head = summary.study_name.split(".")[1].split("@")[0]
        seconds.setdefault(head, []).extend(t.user_attrs["seconds"] for t in study.trials if "seconds" in t.user_attrs)
    return {head: round(float(np.mean(values)), 3) for head, values in seconds.items() if values}


def run_benchmark(data_dir: Path | None = None, *, trials: int = 3) -> dict:
    """Every dogs measurement as one JSON-ready dict."""
    import tensorflow as tf

    from competitions.dogs.reader import read_dataset

    with tempfile.TemporaryDirectory(prefix="comp-bench-") as scratch:
        scratch = Path(scratch)
        data_dir, weights_source = _data_and_weights(data_dir, scratch)
        paths = read_dataset(data_dir).train["path"].tolist()[:512]
        throughput = [extraction_throughput(paths, weights_source)]
        if tf.config.list_physical_devices("GPU"):
            throughput += [extraction_throughput(paths, weights_source, mixed_precision=True),
                           extraction_throughput(paths, weights_source, mixed_precision=True, xla=True)]
        cold = _timed_train(data_dir, weights_source, scratch / "cache", scratch / "cold", trials)
        warm = _timed_train(data_dir, weights_source, scratch / "cache", scratch / "warm", trials)
        heads = head_seconds_per_trial(scratch / "warm")
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "data": str(data_dir),
        "backbone": BACKBONE,
        "weights": "random (none)" if weights_source == "none" else weights_source,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__},
        "extraction": throughput,
        "train": {"trials_per_model": trials, "cold": cold, "warm": warm,
                  "warm_over_cold": round(warm["wall_s"] / cold["wall_s"], 3),
                  "feature_stage_warm_over_cold": round(warm["feature_stage_s"] / max(cold["feature_stage_s"], 1e-9), 4)},
        "head_seconds_per_trial": heads,
        "peak_memory_mb": {"bench_process": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                           "train_process": round(children / 1024, 1)},
    }
