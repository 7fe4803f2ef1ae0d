"""``comp bench pathology``: training and prediction tiles/s of the default U-Net, FCN-8s and U-Net on SqueezeNet,
and seconds per slide.

Uses the first slides of ``--data`` (the real set in ../shared when present, else a generated demo) and the
shared SqueezeNet weights when present (else random weights: speed does not depend on them).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.compiling import compile_model
from comp.io import machine
from competitions.pathology.augment import TileSampler
from competitions.pathology.demo import write_demo
from competitions.pathology.encoder_unet import build_encoder_unet
from competitions.pathology.models import build_fcn8s, build_unet, segmentation_loss
from competitions.pathology.reader import read_dataset
from competitions.pathology.slides import Geometry, Slides
from competitions.pathology.tiles import predict_with_views

keras = lazy_import("keras")

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared"
TRAIN_STEPS = 5


def _slides(data_dir: Path | None, scratch: Path, count: int = 4):
    """A few decoded training slides and where they came from."""
    if data_dir is None:
        shared = SHARED / "data" / "pathology-glas"
        data_dir = shared if shared.is_dir() else write_demo(scratch / "demo", n=count, seed=0)
    table = read_dataset(Path(data_dir)).train.head(count)
    return Slides.load(table["path"], table["svg"].replace("", None)), str(data_dir)


def measure(model, slides, geometry, *, tile: int, batch_size: int, views: tuple[str, ...]) -> dict:
    """Train tiles/s over a few steps, predict tiles/s, and seconds to predict one slide with its views."""


    compile_model(model, optimizer=keras.optimizers.Adam(1e-3), loss=segmentation_loss())
    sampler = TileSampler(slides.images(geometry), slides.masks(geometry), tile=tile, seed=0)
    images, masks = sampler.batch(0, batch_size)
    model.train_on_batch(images, masks)  # trace outside the timing
    started = time.perf_counter()
    for step in range(TRAIN_STEPS):
        model.train_on_batch(*sampler.batch(step + 1, batch_size))
    train_seconds = time.perf_counter() - started
    model.predict_on_batch(images)
    started = time.perf_counter()
    model.predict_on_batch(np.concatenate([images] * 4))
    predict_seconds = time.perf_counter() - started
    slide = slides.images(geometry)[0]
    started = time.perf_counter()
    predict_with_views(slide, lambda batch: model.predict_on_batch(batch)[..., 1], tile=tile, views=views,
                       batch_size=16)
    return {"parameters": model.count_params(), "tile": tile,
            "train_tiles_per_s": round(TRAIN_STEPS * batch_size / train_seconds, 1),
            "predict_tiles_per_s": round(4 * batch_size / predict_seconds, 1),
            "slide_seconds": round(time.perf_counter() - started, 3),
            "slide_size_at_scale": list(slide.shape[:2]), "views": len(views)}


def run_benchmark(data_dir: Path | None, config: dict) -> dict:
    """Every measurement as one JSON-ready dict."""
    weights = SHARED / "weights" / "squeezenet_v1.1_imagenet_notop.h5"
    views = tuple(config.get("tta_views") or ("identity",))
    geometry = Geometry(scale=float(config.get("scale", 0.5)))
    unet, fcn, encoder_unet = config["unet"], config["fcn8s"], config["unet_squeezenet"]
    encoder_weights = str(weights) if weights.exists() else "none"
    with tempfile.TemporaryDirectory() as scratch:
        slides, source = _slides(data_dir, Path(scratch))
        results = {
            "unet": measure(build_unet(tile=int(unet["tile"]),
                                               widths=tuple(int(w) for w in str(unet["widths"]).split("-"))),
                            slides, geometry, tile=int(unet["tile"]), batch_size=int(unet["batch_size"]), views=views),
            "fcn8s": measure(build_fcn8s(str(fcn["backbone"]), tile=int(fcn["tile"]),
                                                  weights=encoder_weights),
                             slides, geometry, tile=int(fcn["tile"]), batch_size=int(fcn["batch_size"]), views=views),
            "unet_squeezenet": measure(
                build_encoder_unet(str(encoder_unet["backbone"]), tile=int(encoder_unet["tile"]),
                                   decoder_widths=tuple(int(w) for w in str(encoder_unet["decoder_widths"]).split("-")),
                                   weights=encoder_weights),
                slides, geometry, tile=int(encoder_unet["tile"]), batch_size=int(encoder_unet["batch_size"]),
                views=views),
        }
    return {"slides": source, "scale": geometry.scale, **results,
            "encoder_weights": "imagenet (shared file)" if weights.exists() else "random (speed only)",
            "machine": machine()}
