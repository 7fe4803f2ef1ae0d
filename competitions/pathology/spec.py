"""Segmentation networks as model specs of the shared k-fold loop.

Each fold trains on random augmented tiles of its training slides and predicts whole slides with overlapping
tiles and flip/rot90 views. The held-out rows' prediction is a (2, BINS) probability histogram per slide,
split by the pixel truth at the original size (see scoring.py), so the runner scores pixel F1 over all pixels
exactly; the test prediction is each slide's probability map at the competition's output scale, zero-padded to
one common shape, and the fold maps are averaged. Each fold also keeps the map of every held-out slide beside its
network (``held_out_<row>.npy``): the OOF maps that the post-processing and the fusion of models are fitted on
(``oof_maps.py``) and the report's outlines are drawn from.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.contract import FitContext, FoldResult, ModelSpec
from comp.errors import CompError
from comp.io import write_array
from comp.vision import register_custom_layers
from competitions.pathology.augment import TileSampler
from competitions.pathology.boundary_weights import boundary_weight_map
from competitions.pathology.encoder_unet import build_encoder_unet, encoder_of
from competitions.pathology.masks import resize_image
from competitions.pathology.models import (
    WEIGHTED_LOSSES,
    build_fcn8s,
    build_unet,
    edge_padding_class,
    encoder_weights,
)
from competitions.pathology.oof_maps import padded_maps
from competitions.pathology.scoring import probability_histogram
from competitions.pathology.slides import Geometry, Slides
from competitions.pathology.tiles import predict_with_views
from competitions.pathology.training import fit_network

keras = lazy_import("keras")

logger = logging.getLogger("comp.pathology")
SEED_LEARNING_RATES = (1e-3, 1e-4, 1e-5)
SEED_L2 = (1e-2, 1e-6)
SEED_BATCH_SIZES = (2, 4, 8)
NETWORK_FILE = "segmenter.keras"


@dataclass
class FittedSegmenter:
    """A fold's trained network and the probability map (output scale) of each of its held-out slides, by row."""

    network: object
    held_out_maps: dict[int, np.ndarray]


class SegmentationSpec(ModelSpec):
    """One network recipe (``network``: "unet", "fcn8s" or "unet_encoder") at one geometry (tiles at a scale, or whole
    images)."""

    def __init__(self, *, name: str, network: str, params: dict, train: Slides, test: Slides, config: dict,
                 geometry: Geometry, output_scale: float, tunable: bool = True, reference: str | None = None,
                 fold_seconds: float | None = None):
        self.name = name
        self.network = network
        self.params = params
        self.train, self.test = train, test
        self.config = config
        self.geometry = geometry
        self.output_geometry = Geometry(scale=output_scale)
        self.tunable = tunable
        self.reference = reference
        self.fold_seconds = fold_seconds  # training seconds of one fold under --time-budget (None: no limit)
        self.tile = geometry.size if geometry.size is not None else int(params["tile"])
        self.views = tuple(config.get("tta_views") or ("identity",))

    def default_params(self) -> dict:
        return dict(self.params)

    def search_space(self, trial) -> dict:
        """The seed's grid: learning rate 1e-5..1e-3 (log), L2 in {1e-2, 1e-6}, batch size in {2, 4, 8}."""
        return {**self.params,
                "learning_rate": trial.suggest_float("learning_rate", min(SEED_LEARNING_RATES),
                                                     max(SEED_LEARNING_RATES), log=True),
                "l2": trial.suggest_categorical("l2", list(SEED_L2)),
                "batch_size": trial.suggest_categorical("batch_size", list(SEED_BATCH_SIZES))}

    def build(self, params: dict, seed: int):
        """The network for ``params`` (uncompiled: ``training.fit_network`` compiles each phase)."""
        if self.network == "unet":
            widths = tuple(int(width) for width in str(params["widths"]).split("-"))
            return build_unet(tile=self.tile, widths=widths, l2=float(params["l2"]),
                              dropout=float(params.get("dropout", 0.0)))
        backbone = str(params.get("backbone", ""))
        if self.network == "fcn8s":
            return build_fcn8s(backbone, tile=self.tile, l2=float(params["l2"]),
                               weights=encoder_weights(backbone, self.config), seed=seed)
        if self.network == "unet_encoder":
            widths = tuple(int(width) for width in str(params.get("decoder_widths", "128-64-32-16")).split("-"))
            return build_encoder_unet(backbone, tile=self.tile, decoder_widths=widths, l2=float(params["l2"]),
                                      weights=encoder_weights(backbone, self.config), seed=seed)
        raise ValueError(f"unknown network {self.network!r}; use 'unet', 'fcn8s' or 'unet_encoder'")

    def loss_weights(self, params: dict, rows: np.ndarray) -> list[np.ndarray] | None:
        """The boundary weight maps (``boundary_weights.py``) of training slides ``rows`` at the working geometry when
        the loss is weighted, else None; made from each slide's outlines (one object per gland)."""
        if str(params.get("loss", "crossentropy")) not in WEIGHTED_LOSSES:
            return None
        objects = self.train.objects(self.geometry)
        w0, sigma = float(params.get("boundary_w0", 10.0)), float(params.get("boundary_sigma", 5.0))
        return [boundary_weight_map(objects[row], w0, sigma) for row in rows]

    def predict_maps(self, model, slides: Slides, rows: np.ndarray) -> list[np.ndarray]:
        """Positive-class probability of every pixel of slides ``rows`` at the output scale (float32)."""
        images = slides.images(self.geometry)
        batch_size = int(self.config.get("predict_batch_size", 16))

        def predict(batch):
            return model.predict_on_batch(batch)[..., 1]

        maps = []
        for row in rows:
            probabilities = predict_with_views(images[row], predict, tile=self.tile, views=self.views,
                                               overlap=float(self.config.get("tile_overlap", 0.5)),
                                               batch_size=batch_size)
            size = self.output_geometry.working_size(slides.sizes[row])
            probabilities = probabilities[..., 0].astype(np.float32)
            maps.append(np.clip(resize_image(probabilities, size), 0, 1))
        return maps

    def histograms(self, maps: list[np.ndarray], rows: np.ndarray) -> np.ndarray:
        """(len(rows), 2, BINS) histograms of the maps brought to the original size, split by the true mask."""
        return np.stack([probability_histogram(resize_image(probabilities, self.train.sizes[row]),
                                               self.train.truth(row))
                         for probabilities, row in zip(maps, rows)])

    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray,
                 context: FitContext) -> FoldResult:
        seed = context.seed
        keras.utils.set_random_seed(seed)
        images, masks = self.train.images(self.geometry), self.train.masks(self.geometry)
        sampler = TileSampler([images[row] for row in train_index], [masks[row] for row in train_index],
                              tile=self.tile, seed=seed, colour_jitter=float(params.get("colour_jitter", 0.0)),
                              scale_change=float(params.get("scale_change", 0.2)),
                              weights=self.loss_weights(params, train_index),
                              stain_jitter=float(params.get("stain_jitter", 0.0)))
        model = self.build(params, seed)
        started = time.perf_counter()
        history = fit_network(model, sampler, params, name=self.name, seed=seed,
                              encoder=encoder_of(model) if self.network == "unet_encoder" else None,
                              seconds_allowed=self.fold_seconds)
        train_seconds = time.perf_counter() - started
        started = time.perf_counter()
        valid_maps = self.predict_maps(model, self.train, valid_index)
        valid_prediction = self.histograms(valid_maps, valid_index)
        test_prediction = self.predict_test(model)
        kept = {int(row): probabilities for row, probabilities in zip(valid_index, valid_maps)}
        steps = len(history.get("loss", [])) * int(params["steps_per_epoch"])
        history.update(train_seconds=round(train_seconds, 2), predict_seconds=round(time.perf_counter() - started, 2),
                       train_tiles_per_s=round(steps * int(params["batch_size"]) / max(train_seconds, 1e-9), 1))
        logger.info("%s (seed %d): trained %.0f s, predicted %.0f s", self.name, seed, history["train_seconds"],
                    history["predict_seconds"])
        return FoldResult(valid_prediction, test_prediction, FittedSegmenter(model, kept), history)

    def predict_test(self, model) -> np.ndarray:
        """Every test slide's probability map at the output scale, zero-padded into one (n_test, H, W) float16 array;
        ``model`` is a fold's network (as ``load_model`` returns it)."""
        return padded_maps(self.predict_maps(model, self.test, np.arange(len(self.test))))

    def combine_folds(self, test_predictions: list[np.ndarray]) -> np.ndarray:
        """The fold models' test maps averaged (in float32, stored as float16)."""
        total = np.zeros(test_predictions[0].shape, dtype=np.float32)
        for prediction in test_predictions:
            total += prediction
        return (total / len(test_predictions)).astype(np.float16)

    def save_model(self, model: FittedSegmenter, directory: Path) -> None:
        """The fold's network as ``segmenter.keras`` and its held-out maps as float16 ``held_out_<row>.npy``."""
        directory.mkdir(parents=True, exist_ok=True)
        model.network.save(directory / NETWORK_FILE)
        for row, probabilities in model.held_out_maps.items():
            write_array(directory / f"held_out_{row}.npy", probabilities.astype(np.float16))

    def load_model(self, directory: Path):
        """One fold's saved network (``segmenter.keras``), with the custom layers it may hold registered first."""
        path = directory / NETWORK_FILE
        if not path.is_file():
            raise CompError(f"the fold network {path} is missing; was this run trained by the pathology competition?")
        register_custom_layers()
        edge_padding_class()
        return keras.models.load_model(path, compile=False)

    def describe(self) -> dict:
        geometry = (f"whole image at {self.geometry.size}x{self.geometry.size}" if self.geometry.size is not None
                    else f"{self.tile}px tiles at scale {self.geometry.scale}")
        return {"network": self.network, "input": geometry, "test_time_views": list(self.views)}
