"""Resolve a run's configuration: shared defaults < the competition's config.toml (< its ``[with_gpu]`` table on a
GPU) < --config FILE < flags."""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import os
import platform
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Collection

from comp._lazy import lazy_import
from comp.errors import CompError, excerpt

keras = lazy_import("keras")
tf = lazy_import("tensorflow")
logger = logging.getLogger("comp")

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
# Types of the keys whose shared default is None or that no config.toml sets (the others take their default's type).
OPTIONAL_KEYS: dict[str, type | tuple[type, ...]] = {
    "data": str, "epochs": int, "time_budget": (int, float), "storage": str, "cache_dir": str, "models": list,
    "mixed_precision": bool, "xla": bool, "default_weights": str, "heartbeat_seconds": int, "grace_seconds": int,
    "task": str, "metric": str, "id_column": str, "label_column": str, "daily_submissions": int, "kernel_gpu": bool,
    "kernel_time_limit_minutes": (int, float), "finetune": bool, "pseudo_labels": bool, "finetune_params": dict,
}
AT_LEAST = {"folds": 2, "trials": 0, "seed": 0, "epochs": 1, "time_budget": 0, "chunk_size": 1, "extract_batch_size": 1,
            "heartbeat_seconds": 1, "grace_seconds": 1}
GPU_TABLE = "with_gpu"  # a competition's config.toml table whose values replace its defaults where a GPU is visible
RESUME_OVERRIDES = ("trials", "time_budget", "storage", "allow_bad_test")  # what --resume may change
TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false", list: "a list", dict: "a table",
              float: "a number", (int, float): "a number"}
RECORDED_PACKAGES = ("comp", "tensorflow", "keras", "numpy", "scikit-learn", "pandas", "optuna", "albumentations")


def read_config_file(path: Path) -> dict:
    """A user's TOML config file as a flat dict."""
    try:
        return tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CompError(f"config file {path} does not exist") from error
    except tomllib.TOMLDecodeError as error:
        raise CompError(f"config file {path} is not valid TOML: {error}") from error


@dataclass(frozen=True)
class ConfigLayer:
    """One source of config values, named as an error message names it (``--config FILE``, ``the flags``)."""
    source: str
    values: dict


def config_layers(defaults: dict, *, config_file: Path | None = None, flags: dict | None = None,
                  defaults_source: str = "the competition's config.toml", gpu: bool | None = None) -> list[ConfigLayer]:
    """The layers of a run's config, lowest first: shared defaults, the competition's, its ``[with_gpu]`` table
    where TensorFlow sees a GPU (``gpu`` None: ask it), ``--config FILE``, flags."""
    defaults = dict(defaults)
    with_gpu = defaults.pop(GPU_TABLE, None)
    layers = [ConfigLayer("comp's shared defaults", SHARED_DEFAULTS), ConfigLayer(defaults_source, defaults)]
    if with_gpu and (gpus_visible() > 0 if gpu is None else gpu):
        layers.append(ConfigLayer(f"[{GPU_TABLE}] of {defaults_source}", with_gpu))
        logger.info("a GPU is visible: [%s] of %s applies (%s)", GPU_TABLE, defaults_source,
                    ", ".join(f"{key} = {value}" for key, value in with_gpu.items()))
    if config_file is not None:
        layers.append(ConfigLayer(f"--config {config_file}", read_config_file(config_file)))
    layers.append(ConfigLayer("the flags", {key: value for key, value in (flags or {}).items() if value is not None}))
    return layers


def resolve_config(defaults: dict, *, config_file: Path | None = None, flags: dict | None = None) -> dict:
    """Merge the layers; a flag left unset (None) keeps the value below it, and tables (``weights``, a model's
    ``[unet]``) merge key by key, so a file that sets one training option keeps the defaults of the others."""
    return merged(config_layers(defaults, config_file=config_file, flags=flags))


def merged(layers: list[ConfigLayer]) -> dict:
    """The layers' values merged, higher over lower (``merge_tables``)."""
    resolved: dict[str, Any] = {}
    for layer in layers:
        resolved = merge_tables(resolved, layer.values)
    return resolved


def validate_config(layers: list[ConfigLayer], choices: dict[str, Collection[str]] | None = None, *,
                    at_least: Callable[[dict], dict[str, int]] | None = None) -> dict:
    """The merged config of ``layers`` once every key is known, of its default's type, in range and, for the keys
    in ``choices``, a known name (given once); otherwise one CompError naming each bad key and the layer it came from.
    ``at_least(merged config)`` may change the lower bounds of ``AT_LEAST`` (a plugin's ``fewest_folds``).
    """
    schema = merged(layers[:2])
    problems = []
    for layer in layers[2:]:
        problems += _layer_problems(layer, schema)
    resolved = merged(layers)
    bounds = {**AT_LEAST, **(at_least(resolved) if at_least else {})}
    for key, value in resolved.items():
        source = next((layer.source for layer in reversed(layers) if key in layer.values), "")
        where = f"{_flag(key) if source == 'the flags' else f'`{key}` in {source}'}"
        if key in bounds and _is_number(value) and value < bounds[key]:
            problems.append(f"{where} is {value}; it must be at least {bounds[key]}")
        known = (choices or {}).get(key)
        if known is None or value is None:
            continue
        names = value if isinstance(value, list) else [value]
        for name in names:
            if isinstance(name, str) and name not in known:
                problems.append(f"{where} names unknown {key.removesuffix('s')} {name!r}; known: {_listing(known)}")
        repeated = sorted({name for name in names if isinstance(name, str) and names.count(name) > 1})
        if repeated:
            problems.append(f"{where} names {', '.join(repeated)} more than once")
    if problems:
        raise CompError("config: " + "; ".join(problems))
    return resolved


def _layer_problems(layer: ConfigLayer, schema: dict, prefix: str = "") -> list[str]:
    """Unknown keys and values of the wrong type in one layer (tables checked key by key against their default)."""
    problems = []
    for key, value in layer.values.items():
        name = f"{prefix}{key}"
        where = _flag(name) if layer.source == "the flags" else f"`{name}` in {layer.source}"
        if prefix and key not in schema:
            continue  # a model's table may take keys its default does not list (e.g. dice_weight)
        expected = _expected_type(schema.get(key)) if key in schema and schema[key] is not None \
            else OPTIONAL_KEYS.get(key) if not prefix else None
        if expected is None and layer.source == "the flags":
            continue  # every flag is known to the parser; a flag of one competition only is not in the others' defaults
        if expected is None:
            close = difflib.get_close_matches(key, [*schema, *OPTIONAL_KEYS], n=1)
            problems.append(f"{where} is not a known key" + (f" (did you mean `{close[0]}`?)" if close else ""))
            continue
        if not _is_instance(value, expected):
            problems.append(f"{where} is {excerpt(value)}; it must be {TYPE_NAMES.get(expected, expected)}")
        elif expected is list and schema.get(key) and isinstance(schema[key][0], str):
            wrong = [item for item in value if not isinstance(item, str)]
            if wrong:
                problems.append(f"{where} holds {excerpt(wrong[0])}; it must be a list of strings")
        elif expected is dict and isinstance(schema.get(key), dict):
            problems += _layer_problems(ConfigLayer(layer.source, value), schema[key], prefix=f"{name}.")
    return problems


def _expected_type(default: Any) -> type | tuple[type, ...]:
    if isinstance(default, bool):
        return bool
    if isinstance(default, float):
        return (int, float)
    return type(default) if isinstance(default, (int, str, list, dict)) else object


def _is_instance(value: Any, expected: type | tuple[type, ...]) -> bool:
    if isinstance(value, bool):
        return expected is bool or expected is object
    return isinstance(value, expected)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _flag(key: str) -> str:
    return "--" + key.replace("_", "-")


def _listing(names: Collection[str], limit: int = 20) -> str:
    names = sorted(names)
    return ", ".join(names[:limit]) + (f" (+{len(names) - limit} more)" if len(names) > limit else "")


def config_hash(config: dict) -> str:
    """Digest of what a run's files depend on: the resolved config less what ``--resume`` may change."""
    kept = {key: value for key, value in config.items() if key not in RESUME_OVERRIDES}
    return hashlib.sha256(json.dumps(kept, sort_keys=True, default=str).encode()).hexdigest()[:16]


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


def gpus_visible() -> int:
    """How many GPUs TensorFlow sees (imports TensorFlow)."""
    return len(tf.config.list_physical_devices("GPU"))


def machine() -> dict:
    """Cores, platform, TensorFlow and Keras versions, GPUs and the host allocator: what every benchmark figure
    depends on."""
    return {"cpus": os.cpu_count(), "platform": platform.platform(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "gpus": gpus_visible(),
            "host_allocator": host_allocator()}


def host_allocator() -> str:
    """``"best-fit"`` or ``"malloc"``: the allocator TensorFlow really uses for host memory, asked of TensorFlow
    (only a pooling allocator keeps statistics; under malloc ``get_memory_info`` raises ValueError). With oneDNN on,
    as TensorFlow sets itself on CPUs with AVX512_VNNI, AVX512_BF16 or AMX, its allocator pools blocks whatever
    ``TF_CPU_ALLOCATOR_USE_BFC`` says, and reads ``"best-fit"``."""
    try:
        tf.config.experimental.get_memory_info("CPU:0")
    except ValueError:
        return "malloc"
    return "best-fit"


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


def default_cache_dir(config: dict | None = None) -> Path:
    """Where extracted features live across runs: the config's ``cache_dir``, else ``$COMP_CACHE_DIR``, else
    ``~/.cache/comp``."""
    return Path((config or {}).get("cache_dir") or os.environ.get("COMP_CACHE_DIR") or Path.home() / ".cache" / "comp")
