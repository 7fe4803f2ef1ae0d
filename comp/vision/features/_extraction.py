"""Bottleneck features of frozen backbones through a tf.data pipeline, cached on disk by content.

A cache entry is ``<cache>/features/<key>/`` holding ``features.npy`` (memory-mapped on load) and
``manifest.json``. The key hashes everything the numbers depend on: backbone, weights identity, input size,
preprocessing, view, pooling, compute precision and the image files with their sizes and modification times.
Extraction writes fixed-size chunks atomically, so a killed extraction resumes at the first missing chunk and ends with the
same bytes as an uninterrupted one; a file lock per entry keeps concurrent runs from clobbering each other.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from filelock import FileLock

from comp._lazy import lazy_import
from comp.errors import CompError
from comp.io import progress_bar, write_array, write_json
from comp.vision.backbones import BackboneSpec, ResolvedWeights

keras = lazy_import("keras")
tf = lazy_import("tensorflow")

logger = logging.getLogger("comp.features")
VIEWS = ("orig", "flip")
POOLINGS = ("avg", "avgmax")
CACHE_FORMAT = 1


@dataclass(frozen=True)
class FeatureRequest:
    """One feature matrix to produce: a backbone with resolved weights, seen in one view, pooled one way."""

    backbone: BackboneSpec
    weights: ResolvedWeights
    view: str = "orig"
    pooling: str = "avg"

    def __post_init__(self):
        if self.view not in VIEWS:
            raise CompError(f"unknown view {self.view!r}; known: {', '.join(VIEWS)}")
        if self.pooling not in POOLINGS:
            raise CompError(f"unknown pooling {self.pooling!r}; known: {', '.join(POOLINGS)}")

    @property
    def name(self) -> str:
        return f"{self.backbone.name}:{self.view}"

    def describe(self) -> dict:
        return {"backbone": self.backbone.name, "weights": self.weights.identity,
                "input_size": list(self.backbone.input_size), "preprocessing": self.backbone.preprocessing,
                "view": self.view, "pooling": self.pooling, "format": CACHE_FORMAT}


@dataclass(frozen=True)
class ExtractionOptions:
    """How to run the networks: batch size, chunk size, and the GPU options (mixed precision, XLA)."""

    batch_size: int = 32
    chunk_size: int = 512
    mixed_precision: bool = False
    xla: bool = False
    show_progress: bool = True


def files_signature(paths: Sequence[str | os.PathLike]) -> list[list]:
    """(path, size, mtime in ns) of every image; an edited or replaced image changes the cache key."""
    signature = []
    for path in paths:
        try:
            status = os.stat(path)
        except OSError as error:
            raise CompError(f"cannot read image {path}: {error.strerror}") from error
        signature.append([str(Path(path).resolve()), status.st_size, status.st_mtime_ns])
    return signature


def cache_key(request: FeatureRequest, signature: list[list], *, mixed_precision: bool = False) -> str:
    """Hex digest naming the cache entry of ``request`` over the files in ``signature``.

    float16 compute gives slightly different numbers, so it gets entries of its own.
    """
    payload = json.dumps({"request": request.describe(), "files": signature,
                          "compute": "mixed_float16" if mixed_precision else "float32"}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


@dataclass
class Extraction:
    """Features per request name (rows in the order of the paths; NaN rows for unreadable images)."""

    features: dict[str, np.ndarray]
    bad_paths: list[str]
    computed_images: int
    seconds: float


class FeatureCache:
    """The on-disk store of extracted features under ``root/features``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root) / "features"

    def entry(self, key: str) -> Path:
        return self.root / key

    def lock(self, key: str) -> FileLock:
        self.root.mkdir(parents=True, exist_ok=True)
        return FileLock(str(self.root / f"{key}.lock"))

    def load(self, key: str) -> tuple[np.ndarray, dict] | None:
        """Memory-mapped features and manifest of a complete entry, or None."""
        entry = self.entry(key)
        manifest_path = entry / "manifest.json"
        if not manifest_path.exists():
            return None
        manifest = json.loads(manifest_path.read_text())
        return np.load(entry / "features.npy", mmap_mode="r"), manifest

    def chunk_path(self, key: str, chunk: int) -> Path:
        return self.entry(key) / "chunks" / f"{chunk:06d}.npy"

    def finish(self, key: str, n_chunks: int, manifest: dict) -> None:
        """Join the chunks into ``features.npy``, then write the manifest (its presence marks completion)."""
        entry = self.entry(key)
        features = np.concatenate([np.load(self.chunk_path(key, chunk)) for chunk in range(n_chunks)])
        write_array(entry / "features.npy", features)
        write_json(entry / "manifest.json", {**manifest, "rows": int(features.shape[0]),
                                             "dimension": int(features.shape[1])})
        shutil.rmtree(entry / "chunks", ignore_errors=True)


def build_extractor(request_backbone: BackboneSpec, weights: ResolvedWeights, pooling: str):
    """Keras model: float RGB 0..255 images at the backbone's size -> preprocessing -> backbone -> pooled vector."""
    height, width = request_backbone.input_size
    images = keras.Input((height, width, 3), name="images")
    feature_map = request_backbone.build(weights)(request_backbone.preprocessing_layer()(images))
    pooled = keras.layers.GlobalAveragePooling2D(name="average_pool")(feature_map)
    if pooling == "avgmax":
        maximum = keras.layers.GlobalMaxPooling2D(name="max_pool")(feature_map)
        pooled = keras.layers.Concatenate(name="average_max_pool")([pooled, maximum])
    pooled = keras.layers.Activation("linear", dtype="float32", name="features")(pooled)
    return keras.Model(images, pooled, name=f"{request_backbone.name}_features")


def decoded_images(paths: Sequence[str], size: tuple[int, int], batch_size: int):
    """tf.data: (row index, resized float RGB image) batches; files that cannot be decoded are skipped."""

    def decode(index, path):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return index, tf.image.resize(image, size)

    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(paths), dtype=np.int64), list(map(str, paths))))
    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return dataset.ignore_errors().batch(batch_size).prefetch(tf.data.AUTOTUNE)


@contextlib.contextmanager
def precision_policy(mixed: bool):
    """Build models under the mixed_float16 policy when asked, restoring the previous policy afterwards."""
    previous = keras.config.dtype_policy()
    if mixed:
        keras.config.set_dtype_policy("mixed_float16")
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def distribution_strategy():
    """MirroredStrategy over all GPUs when there are several, the default strategy otherwise."""
    gpus = tf.config.list_logical_devices("GPU")
    return tf.distribute.MirroredStrategy() if len(gpus) > 1 else tf.distribute.get_strategy()


def forward_function(models: dict, views: dict, strategy, xla: bool):
    """One compiled step: every backbone of a size group, every requested view, on one decoded batch."""

    def replica_step(images):
        outputs = {}
        for backbone_name, model in models.items():
            for view in views[backbone_name]:
                batch = tf.reverse(images, axis=[2]) if view == "flip" else images
                outputs[(backbone_name, view)] = model(batch, training=False)
        return outputs

    compiled = tf.function(replica_step, jit_compile=xla)

    def step(images):
        if strategy.num_replicas_in_sync == 1:
            return compiled(images)
        per_replica = strategy.run(compiled, args=(images,))
        return {key: strategy.gather(value, axis=0) for key, value in per_replica.items()}

    return step


def extract(paths: Sequence[str | os.PathLike], requests: Iterable[FeatureRequest], *, cache_dir: str | os.PathLike,
            options: ExtractionOptions = ExtractionOptions()) -> Extraction:
    """Features for every request over ``paths``, computing only what the cache lacks."""
    started = time.perf_counter()
    paths = [str(path) for path in paths]
    requests = list(requests)
    cache = FeatureCache(cache_dir)
    signature = files_signature(paths)
    keys = {request.name: cache_key(request, signature, mixed_precision=options.mixed_precision)
            for request in requests}
    features: dict[str, np.ndarray] = {}
    bad: set[str] = set()
    computed = 0
    groups: dict[tuple[int, int], list[FeatureRequest]] = {}
    for request in requests:
        groups.setdefault(tuple(request.backbone.input_size), []).append(request)
    for size, group in groups.items():
        with contextlib.ExitStack() as locks:
            for key in sorted(keys[request.name] for request in group):
                locks.enter_context(cache.lock(key))
            missing = [request for request in group if cache.load(keys[request.name]) is None]
            if missing:
                computed += _extract_group(paths, size, missing, keys, cache, options)
            for request in group:
                matrix, manifest = cache.load(keys[request.name])
                features[request.name] = matrix
                bad.update(manifest["bad_paths"])
    return Extraction(features, sorted(bad), computed, time.perf_counter() - started)


def _extract_group(paths, size, requests, keys, cache: FeatureCache, options: ExtractionOptions) -> int:
    """Fill the chunks of every request of one input size from a single decode pass per chunk."""
    n_chunks = max(1, -(-len(paths) // options.chunk_size))
    strategy = distribution_strategy()
    backbones = {request.backbone.name: request for request in requests}
    views = {name: [r.view for r in requests if r.backbone.name == name] for name in backbones}
    with precision_policy(options.mixed_precision), strategy.scope():
        models = {name: build_extractor(r.backbone, r.weights, r.pooling) for name, r in backbones.items()}
    step = forward_function(models, views, strategy, options.xla)
    label = ",".join(sorted(backbones))
    computed = 0
    with progress_bar(total=len(paths) * len(backbones), desc=f"extract {label}", unit="img",
                      enabled=options.show_progress) as bar:
        for chunk in range(n_chunks):
            todo = [r for r in requests if not cache.chunk_path(keys[r.name], chunk).exists()]
            rows = slice(chunk * options.chunk_size, min(len(paths), (chunk + 1) * options.chunk_size))
            chunk_paths = paths[rows]
            if not todo:
                bar.update(len(chunk_paths) * len(backbones))
                continue
            outputs = {(r.backbone.name, r.view): None for r in todo}
            seen = []
            for indices, images in decoded_images(chunk_paths, size, options.batch_size):
                batch_outputs = step(images)
                seen.append(indices.numpy())
                for key in outputs:
                    value = np.asarray(batch_outputs[key], dtype=np.float32)
                    outputs[key] = value if outputs[key] is None else np.concatenate([outputs[key], value])
                bar.update(len(indices) * len(backbones))
            seen_rows = np.concatenate(seen) if seen else np.zeros(0, dtype=np.int64)
            bad_rows = sorted(set(range(len(chunk_paths))) - set(seen_rows.tolist()))
            bar.update(len(bad_rows) * len(backbones))
            for request in todo:
                dimension = models[request.backbone.name].output_shape[-1]
                matrix = np.full((len(chunk_paths), dimension), np.nan, dtype=np.float32)
                if len(seen_rows):
                    matrix[seen_rows] = outputs[(request.backbone.name, request.view)]
                write_array(cache.chunk_path(keys[request.name], chunk), matrix)
            computed += len(chunk_paths)
    for request in requests:
        key = keys[request.name]
        chunks = [np.load(cache.chunk_path(key, chunk), mmap_mode="r") for chunk in range(n_chunks)]
        bad_paths = [path for chunk, matrix in enumerate(chunks)
                     for row, path in enumerate(paths[chunk * options.chunk_size:(chunk + 1) * options.chunk_size])
                     if np.isnan(matrix[row, 0])]
        cache.finish(key, n_chunks, {**request.describe(), "key": key, "bad_paths": bad_paths,
                                     "files": len(paths)})
    return computed
