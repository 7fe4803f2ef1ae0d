"""Bottleneck features of frozen backbones through a tf.data pipeline, cached on disk by content.

A cache entry is ``<cache>/features/<key>/`` holding ``features.npy`` (memory-mapped on load) and
``manifest.json``. The key hashes everything the numbers depend on: backbone, weights identity, input size,
preprocessing, view, pooling, compute precision and the bytes of every image, in order (a BLAKE2b digest per file,
remembered in ``<cache>/content/`` per image directory by path, size and modification time, so an unchanged file is
hashed once and a copy of the images elsewhere finds the same entries).
Extraction writes fixed-size chunks atomically, so a killed extraction resumes at the first missing chunk and ends with the
same bytes as an uninterrupted one; a file lock per entry keeps concurrent runs from clobbering each other.
Every chunk's checksum goes in the manifest as it is written and is verified on load: a damaged entry (cut short,
overwritten, an unreadable manifest) is named in one warning, moved aside to ``<entry>.bad-<time>`` and computed
again. A cache holding every entry a run needs is only read, so it may be read-only.
"""

from __future__ import annotations

import contextlib
import datetime
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
from comp.vision.pipelines import decoded_rows, without_autotuning
from comp.vision.views import VIEWS, view_of

keras = lazy_import("keras")
tf = lazy_import("tensorflow")

logger = logging.getLogger("comp.features")
POOLINGS = ("avg", "avgmax")
CACHE_FORMAT = 2  # 2: keys on image contents, per-chunk checksums, unreadable images stored as row numbers
HASH_BLOCK = 1 << 20  # bytes read at a time when hashing a file


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


def checksum(data: bytes | np.ndarray) -> str:
    """A fast 128-bit BLAKE2b digest of bytes (or of an array's C-order bytes)."""
    if isinstance(data, np.ndarray):
        data = np.ascontiguousarray(data).tobytes()
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def file_digest(path: str | os.PathLike) -> str:
    """``checksum`` of a file's bytes, read in blocks."""
    digest = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as handle:
        while block := handle.read(HASH_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def content_digests(paths: Sequence[str | os.PathLike], root: str | os.PathLike) -> list[str]:
    """The digest of every image's bytes, in order; a file whose path, size and modification time are in the
    index of its directory under ``root/content`` is not read again (the index is updated when the cache is writable).
    """
    by_directory: dict[Path, list[int]] = {}
    for row, path in enumerate(paths):
        by_directory.setdefault(Path(path).resolve().parent, []).append(row)
    digests = [""] * len(paths)
    for directory, rows in by_directory.items():
        index_path = Path(root) / "content" / f"{checksum(str(directory).encode())}.json"
        try:
            index = json.loads(index_path.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            index = {}
        changed = False
        for row in rows:
            name = Path(paths[row]).name
            try:
                status = os.stat(paths[row])
            except OSError as error:
                raise CompError(f"cannot read image {paths[row]}: {error.strerror}") from error
            known = index.get(name)
            if not (isinstance(known, list) and known[:2] == [status.st_size, status.st_mtime_ns]):
                try:
                    known = index[name] = [status.st_size, status.st_mtime_ns, file_digest(paths[row])]
                except OSError as error:
                    raise CompError(f"cannot read image {paths[row]}: {error.strerror}") from error
                changed = True
            digests[row] = known[2]
        if changed:
            with contextlib.suppress(CompError):  # a read-only cache: the digests are simply computed next time too
                write_json(index_path, {"directory": str(directory), "files": index})
    return digests


def cache_key(request: FeatureRequest, digests: Sequence[str], *, mixed_precision: bool = False) -> str:
    """Hex digest naming the cache entry of ``request`` over images with the contents ``digests`` (in row order).

    float16 compute gives slightly different numbers, so it gets entries of its own.
    """
    payload = json.dumps({"request": request.describe(), "files": list(digests),
                          "compute": "mixed_float16" if mixed_precision else "float32"}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


class DamagedEntry(Exception):
    """A cache entry whose files do not match its manifest (the message says how)."""


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
        """The entry's write lock (taken only to compute or repair it)."""
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CompError(f"cannot write the feature cache {self.root}: {error.strerror or error}") from error
        return FileLock(str(self.root / f"{key}.lock"))

    def load(self, key: str) -> tuple[np.ndarray, dict] | None:
        """Memory-mapped features (rows, dimension) and manifest of a complete entry, every chunk's checksum
        verified; None when there is no entry, DamagedEntry when its files do not match its manifest."""
        entry = self.entry(key)
        try:
            text = (entry / "manifest.json").read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as error:
            raise DamagedEntry(f"manifest.json cannot be read: {error}") from error
        try:
            manifest = json.loads(text)
            rows, dimension = int(manifest["rows"]), int(manifest["dimension"])
            chunk_rows, checksums = int(manifest["chunk_rows"]), list(manifest["checksums"])
            manifest["bad_rows"] = [int(row) for row in manifest["bad_rows"]]
        except (ValueError, KeyError, TypeError) as error:
            raise DamagedEntry("manifest.json is not a feature-cache manifest") from error
        try:
            matrix = np.load(entry / "features.npy", mmap_mode="r")
        except (OSError, ValueError) as error:
            raise DamagedEntry(f"features.npy cannot be read: {str(error).splitlines()[0]}") from error
        if matrix.shape != (rows, dimension) or matrix.dtype != np.float32:
            raise DamagedEntry(f"features.npy holds {matrix.dtype} {matrix.shape}, the manifest {rows}x{dimension}")
        for chunk, expected in enumerate(checksums):
            if checksum(matrix[chunk * chunk_rows:(chunk + 1) * chunk_rows]) != expected:
                raise DamagedEntry(f"rows {chunk * chunk_rows}-{min(rows, (chunk + 1) * chunk_rows) - 1} of "
                                   f"features.npy do not match their checksum")
        return matrix, manifest

    def load_or_set_aside(self, key: str) -> tuple[np.ndarray, dict] | None:
        """``load``, with a damaged entry moved aside (and so missing); call it holding the entry's lock."""
        try:
            return self.load(key)
        except DamagedEntry as damage:
            self.set_aside(key, str(damage))
            return None

    def set_aside(self, key: str, reason: str) -> Path:
        """Rename a damaged entry to ``<entry>.bad-<time>`` (kept for inspection), saying so in one warning."""
        entry = self.entry(key)
        target = entry.with_name(f"{key}.bad-{datetime.datetime.now():%Y%m%d-%H%M%S-%f}")
        try:
            entry.rename(target)
        except OSError as error:
            raise CompError(f"feature cache entry {entry} is damaged ({reason}) and cannot be moved aside: "
                            f"{error.strerror or error}; delete it") from error
        logger.warning("feature cache entry %s is damaged (%s): moved to %s, computing it again", entry, reason,
                       target.name)
        return target

    def chunk_path(self, key: str, chunk: int) -> Path:
        return self.entry(key) / "chunks" / f"{chunk:06d}.npy"

    def _chunk_checksums(self, key: str) -> dict[str, str]:
        try:
            return dict(json.loads((self.entry(key) / "chunks" / "checksums.json").read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return {}

    def write_chunk(self, key: str, chunk: int, matrix: np.ndarray) -> None:
        """Store one chunk's rows (n, dimension) and record its checksum beside them."""
        write_array(self.chunk_path(key, chunk), matrix)
        write_json(self.entry(key) / "chunks" / "checksums.json",
                   {**self._chunk_checksums(key), str(chunk): checksum(np.asarray(matrix, dtype=np.float32))})

    def read_chunk(self, key: str, chunk: int) -> np.ndarray | None:
        """A stored chunk whose bytes match its recorded checksum; None when it is missing or damaged."""
        expected = self._chunk_checksums(key).get(str(chunk))
        try:
            matrix = np.load(self.chunk_path(key, chunk))
        except (OSError, ValueError):
            return None
        return matrix if expected is not None and checksum(matrix) == expected else None

    def finish(self, key: str, n_chunks: int, chunk_rows: int, manifest: dict) -> None:
        """Join the chunks into ``features.npy``, then write the manifest with their checksums and the rows that are
        NaN (undecodable images); the manifest's presence marks completion."""
        entry = self.entry(key)
        chunks = [self.read_chunk(key, chunk) for chunk in range(n_chunks)]
        if any(matrix is None for matrix in chunks):
            raise CompError(f"feature cache entry {entry}: a chunk changed while it was being written; run again")
        features = np.concatenate(chunks)
        write_array(entry / "features.npy", features)
        write_json(entry / "manifest.json", {
            **manifest, "rows": int(features.shape[0]), "dimension": int(features.shape[1]), "chunk_rows": chunk_rows,
            "checksums": [checksum(matrix) for matrix in chunks],
            "bad_rows": np.flatnonzero(np.isnan(features[:, 0])).tolist()})
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

    return without_autotuning(decoded_rows(list(map(str, paths)), size).batch(batch_size).prefetch(tf.data.AUTOTUNE))


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
                batch = view_of(images, view)
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
    digests = content_digests(paths, cache_dir)
    keys = {request.name: cache_key(request, digests, mixed_precision=options.mixed_precision)
            for request in requests}
    loaded: dict[str, tuple[np.ndarray, dict]] = {}
    for request in requests:  # without locks first: a cache that holds everything is only read
        with contextlib.suppress(DamagedEntry):
            if (found := cache.load(keys[request.name])) is not None:
                loaded[request.name] = found
    computed = 0
    groups: dict[tuple[int, int], list[FeatureRequest]] = {}
    for request in requests:
        if request.name not in loaded:
            groups.setdefault(tuple(request.backbone.input_size), []).append(request)
    for size, group in groups.items():
        with contextlib.ExitStack() as locks:
            for key in sorted(keys[request.name] for request in group):
                locks.enter_context(cache.lock(key))
            missing = []
            for request in group:
                if (found := cache.load_or_set_aside(keys[request.name])) is None:
                    missing.append(request)
                else:
                    loaded[request.name] = found
            if missing:
                computed += _extract_group(paths, size, missing, keys, cache, options)
            for request in missing:
                loaded[request.name] = cache.load(keys[request.name])
    features = {name: matrix for name, (matrix, _) in loaded.items()}
    bad_rows = sorted({row for _, manifest in loaded.values() for row in manifest["bad_rows"]})
    return Extraction(features, [paths[row] for row in bad_rows], computed, time.perf_counter() - started)


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
            todo = [r for r in requests if cache.read_chunk(keys[r.name], chunk) is None]
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
                cache.write_chunk(keys[request.name], chunk, matrix)
            computed += len(chunk_paths)
    for request in requests:
        key = keys[request.name]
        cache.finish(key, n_chunks, options.chunk_size, {**request.describe(), "key": key, "files": len(paths)})
    return computed
