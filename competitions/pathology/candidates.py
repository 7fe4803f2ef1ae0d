"""The pathology run's map-based fusion candidates: each model's OOF probability maps through the post-processing
chain fitted out of fold (``<model>+postprocessing``), and with several models their fused maps (``fusion``) and the
fused maps post-processed (``fusion+postprocessing``).

The chain and the fusion weights are fitted on the training slides' OOF maps and their outlines at the output scale
(``postprocessing.py``, ``map_fusion.py``: each fold's values on the other folds only); the all-rows fit is applied
to the test maps, which never meet a test mask. A candidate's OOF prediction is, like a model's, one (2, BINS)
histogram per slide at its original size, so its pixel F1 is exact and comparable; its test prediction is the
post-processed 0/1 masks at the output scale (zero-padded; ``fusion``: its averaged maps), which the submission
resizes and marks at 0.5. Object
F1, object Dice and object Hausdorff (in original pixels) are recorded beside pixel F1 on OOF, and on test where
the test slides have outlines (scored after the fact, never fitted on).
"""

from __future__ import annotations

import logging

import numpy as np

from comp.contract import TrainingContext
from comp.errors import CompError
from comp.fusion import Candidate
from comp.metrics import Metric
from competitions.pathology.map_fusion import fuse_maps
from competitions.pathology.masks import resize_image
from competitions.pathology.objects import object_dice, object_f1, object_hausdorff
from competitions.pathology.oof_maps import cut_maps, oof_maps, padded_maps
from competitions.pathology.postprocessing import OBJECT_F1, PIXEL_F1, apply_chain, fit_postprocessing, image_array
from competitions.pathology.scoring import pixel_f1_of_mask_sets, probability_histogram
from competitions.pathology.slides import Geometry, Slides

logger = logging.getLogger("comp.pathology")
POSTPROCESSING_SUFFIX = "+postprocessing"
FUSION = "fusion"
CHAIN_METRICS = {"pixel_f1": PIXEL_F1, "object_f1": OBJECT_F1}


def full_size_maps(maps, slides: Slides) -> list[np.ndarray]:
    """Each (h, w) map (probabilities, or a 0/1 mask) of the output scale brought to its slide's original (H, W) size
    as ``write_submission`` brings it (bilinear), float32; marked at 0.5 they are the submitted masks."""
    return [resize_image(np.asarray(item, dtype=np.float32), size) for item, size in zip(maps, slides.sizes)]


def mask_scores(masks: list[np.ndarray], slides: Slides) -> dict:
    """Pixel F1, object F1, object Dice and object Hausdorff of full-size (H, W) masks against ``slides``' outlines
    (one object per outline)."""
    truths = [slides.truth_objects(row) for row in range(len(slides))]
    return {"pixel_f1": pixel_f1_of_mask_sets(truths, masks), "object_f1": object_f1(truths, masks),
            "object_dice": object_dice(truths, masks), "object_hausdorff": object_hausdorff(truths, masks)}


def has_outlines(slides: Slides) -> bool:
    """Whether any slide of the set has outlines (test slides: whether test truth was given at all)."""
    return any(path is not None for path in slides.svg_paths)


def maps_candidate(name: str, oof: list[np.ndarray], test: list[np.ndarray], train: Slides, test_slides: Slides,
                   metric: Metric, labels: np.ndarray, fold_of_row: np.ndarray, details: dict) -> Candidate:
    """A candidate of (h, w) maps at the output scale (probabilities, or 0/1 masks), marked at 0.5: OOF histograms at
    the original size as a model's, the test maps zero-padded, and the scores of ``mask_scores`` on OOF (and on test
    when it has outlines) in its details."""
    full_oof = full_size_maps(oof, train)
    histograms = np.stack([probability_histogram(np.clip(item, 0, 1), train.truth(row))
                           for row, item in enumerate(full_oof)])
    scores = {"oof_scores": mask_scores([item >= 0.5 for item in full_oof], train)}
    if has_outlines(test_slides):
        scores["test_scores"] = mask_scores([item >= 0.5 for item in full_size_maps(test, test_slides)], test_slides)
    return Candidate(name, histograms, padded_maps([np.asarray(item, dtype=np.float32) for item in test]),
                     metric(labels, histograms), metric.by_fold(labels, histograms, fold_of_row), {**details, **scores})


def postprocessed_candidate(base: str, oof: list[np.ndarray], test: list[np.ndarray], context: TrainingContext,
                            metric: Metric, labels: np.ndarray, fold_of_row: np.ndarray, details: dict) -> Candidate:
    """``<base>+postprocessing``: the chain fitted out of fold on ``base``'s (h, w) OOF maps, the all-rows fit
    applied to its test maps; the details keep the fitted chain, each fold's, and the per-step OOF effects."""
    config, inputs = context.config, context.dataset.inputs
    train, test_slides = inputs["train_slides"], inputs["test_slides"]
    truths = train.objects(Geometry(scale=float(config.get("scale", 0.5))))
    chain_metric = CHAIN_METRICS[str(config.get("postprocessing_metric", "pixel_f1"))]
    fitted = fit_postprocessing(oof, truths, fold_of_row, metric=chain_metric)
    logger.info("%s: chain fitted on OOF %s: %s (OOF %s %.4f -> %.4f)", base, chain_metric.name, fitted.params,
                chain_metric.name, fitted.unprocessed_score, fitted.score)
    test_masks = apply_chain(image_array(test), fitted.params) if test else []
    return maps_candidate(base + POSTPROCESSING_SUFFIX, list(fitted.oof), list(test_masks), train, test_slides,
                          metric, labels, fold_of_row,
                          {**details, "postprocessing": "postprocessing", "chain": fitted.params,
                           "fold_chains": fitted.fold_params, "chain_metric": fitted.metric,
                           "chain_oof_score": fitted.score, "chain_unprocessed_score": fitted.unprocessed_score,
                           "effects": fitted.effects})


def map_candidates(models: list[Candidate], labels: np.ndarray, fold_of_row: np.ndarray, context: TrainingContext,
                   metric: Metric) -> list[Candidate]:
    """Every model's ``+postprocessing`` candidate and, with several models, ``fusion`` (their maps averaged with
    weights fitted on OOF pixels, marked at 0.5) and ``fusion+postprocessing``; none when the config's
    ``postprocessing`` is false or a model's OOF maps are missing (a warning). The fusion's chain is fitted on the fused OOF maps, whose weights each came from
    the other folds: as ``comp.fusion`` post-processes its blend, a fold's truth reaches another fold's chain only
    through those weights."""
    config, inputs = context.config, context.dataset.inputs
    if not config.get("postprocessing", True) or not models:
        return []
    if str(config.get("postprocessing_metric", "pixel_f1")) not in CHAIN_METRICS:
        raise ValueError(f"postprocessing_metric must be one of {', '.join(CHAIN_METRICS)}")
    train, test = inputs["train_slides"], inputs["test_slides"]
    scores, scale = context.run.read_json("scores.json"), float(config.get("scale", 0.5))
    try:
        oof = {model.name: oof_maps(context.run, scores, model.name, len(train)) for model in models}
    except CompError as error:  # a resumed run whose folds were trained before every held-out map was kept
        logger.warning("no post-processed or fused candidates: %s", error)
        return []
    test_maps = {model.name: cut_maps(model.test, test.sizes, scale) for model in models}
    candidates = [postprocessed_candidate(model.name, oof[model.name], test_maps[model.name], context, metric, labels,
                                          fold_of_row, {}) for model in models]
    if len(models) < 2:
        return candidates
    names = [model.name for model in models]
    fused = fuse_maps([oof[name] for name in names], [test_maps[name] for name in names],
                      train.objects(Geometry(scale=scale)), fold_of_row, float(config.get("fusion_weight_step", 0.1)))
    weights = {"weights": dict(zip(names, fused.weights)),
               "fold_weights": [dict(zip(names, values)) for values in fused.fold_weights]}
    logger.info("fusion: weights fitted on OOF pixels %s", weights["weights"])
    candidates.append(maps_candidate(FUSION, fused.oof, fused.test, train, test, metric, labels, fold_of_row,
                                     weights))
    candidates.append(postprocessed_candidate(FUSION, fused.oof, fused.test, context, metric, labels, fold_of_row,
                                              {"fused": weights["weights"]}))
    return candidates
