"""Resolve a run's configuration: shared defaults < the competition's config.toml < --config FILE < flags."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

from comp._lazy import lazy_import
from comp.errors import CompError

keras = lazy_import("keras")
tf = lazy_import("tensorflow")

SHARED_DEFAULTS: dict[str, Any] = {
    "data": None,
    "folds": 5,
    "trials": 20,
    "seed": 42,
    "epochs": None,
    "time_budget": None,
    "storage": None,
    "backbones": [],
    "weights": {},
    "allow_bad_test": False,
    "runs_root": "runs",
    "submissions_root": "submissions",
}
RECORDED_PACKAGES = ("comp", "tensorflow", "keras", "numpy", "scikit-learn", "pandas", "optuna", "albumentations")


def read_config_file(path: Path) -> dict:
    """A user's TOML config file as a flat dict."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CompError(f"config file {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise CompError(f"config file {path} is not valid TOML: {error}") from error


def resolve_config(defaults: dict, *, config_file: Path | None = None, flags: dict | None = None) -> dict:
    """Merge the layers; a flag left unset (None) keeps the value below it, and tables (``weights``, a model's
    ``[unet]``) merge key by key, so a file that sets one training option keeps the defaults of the others."""
    layers = [SHARED_DEFAULTS, defaults]
    if config_file is not None:
        layers.append(read_config_file(config_file))
    layers.append({key: value for key, value in (flags or {}).items() if value is not None})
    resolved: dict[str, Any] = {}
    for layer in layers:
        resolved = merge_tables(resolved, layer)
    return resolved


def merge_tables(below: dict, above: dict) -> dict:
    """``above`` over ``below``; where both hold a table under one key, the tables merge the same way."""
    merged = dict(below)
    for key, value in above.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge_tables(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_weights(values: list[str] | None) -> dict[str, str] | None:
    """``--weights NAME=PATH`` (repeatable; PATH may also be ``imagenet`` or ``none``) as a dict."""
    if not values:
        return None
    weights = {}
    for value in values:
        name, separator, source = value.partition("=")
        if not separator or not name or not source:
            raise CompError(f"--weights expects NAME=PATH (or NAME=imagenet / NAME=none), got {value!r}")
        weights[name] = source
    return weights


def machine() -> dict:
    """Cores, platform, TensorFlow and Keras versions and GPUs: what every benchmark figure depends on."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "gpus": len(tf.config.list_physical_devices("GPU"))}


def provenance() -> dict:
    """Package versions, Python, platform, git revision and command line, saved beside the config."""
    versions = {}
    for package in RECORDED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        revision = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).resolve().parent,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        revision = None
    return {
        "versions": versions,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "git_revision": revision,
        "command": sys.argv,
    }
