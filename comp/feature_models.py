"""A feature-head run's networks rebuilt from what it saved: fold heads, class activation maps of a backbone, and
the whole final pipeline (raw image -> backbones -> heads -> fusion -> P(class 1)) as one Keras model."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from comp.cam import class_activation_map
from comp.feature_heads import HEADS
from comp.feature_sets import feature_requests, feature_set_layout
from comp.inference import final_recipe, finished_scores, load_fold_heads
from comp.runs import Run


def backbones_of(layout: dict, feature_set: str) -> list[str]:
    """The backbones a feature set reads (its request names are ``backbone:view``)."""
    return sorted({request.split(":")[0] for view in layout[feature_set] for request in view})


@dataclass
class CamSource:
    """The model whose fold heads weight the maps, its one backbone, and each fold head's (weights, bias)."""

    model: str
    head: str
    backbone: str
    fold_weights: list[tuple[np.ndarray, float]]


def cam_source(run: Run) -> CamSource | None:
    """The best-scoring model whose heads are linear sigmoid heads on average-pooled features of one backbone, dense
    heads first (the seed's CAM used its dense head); None when the run has no such model."""
    config, scores = run.config()["config"], finished_scores(run)
    if config.get("pooling", "avg") != "avg":
        return None
    layout = feature_set_layout(config)
    sign = 1.0 if scores["direction"] == "minimize" else -1.0
    candidates = sorted(((name, entry) for name, entry in scores["models"].items()
                         if entry.get("head") in HEADS and len(backbones_of(layout, entry["feature_set"])) == 1),
                        key=lambda item: (item[1]["head"] != "dense", sign * item[1]["score"]))
    for name, entry in candidates:
        fold_weights = [head.linear_weights() for head in load_fold_heads(run, scores, name)]
        if all(weights is not None for weights in fold_weights):
            return CamSource(name, entry["head"], backbones_of(layout, entry["feature_set"])[0], fold_weights)
    return None


def activation_maps(run: Run, source: CamSource, paths: list[str]) -> list[np.ndarray | None]:
    """Per image, the fold heads' mean logit map over the backbone's last conv feature map (None if unreadable).

    The heads are linear, so the mean of their maps is the map of their mean weights.
    """
    from comp.features import decoded_images

    request = next(r for r in feature_requests(run.config()["config"]) if r.backbone.name == source.backbone)
    network = request.backbone.build(request.weights)
    weights = np.mean([weights for weights, _ in source.fold_weights], axis=0)
    bias = float(np.mean([bias for _, bias in source.fold_weights]))
    maps: list[np.ndarray | None] = [None] * len(paths)
    for indices, images in decoded_images(paths, request.backbone.input_size, batch_size=8):
        feature_maps = np.asarray(network(request.backbone.preprocess(images), training=False))
        for index, feature_map in zip(indices.numpy(), feature_maps):
            maps[int(index)] = class_activation_map(feature_map, weights, bias)
    return maps


def layer_name(text: str) -> str:
    """``text`` as a Keras layer name (letters, digits and underscores)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")


def average(tensors: list):
    import keras

    return tensors[0] if len(tensors) == 1 else keras.layers.Average()(tensors)


def concatenate(tensors: list):
    import keras

    return tensors[0] if len(tensors) == 1 else keras.layers.Concatenate()(tensors)


def fixed_dense(inputs: list, kernel: list[float], *, bias: float | None = None, activation: str | None = None,
                name: str):
    """``activation(concat(inputs) @ kernel + bias)`` with the fitted fusion weights set."""
    import keras

    layer = keras.layers.Dense(1, use_bias=bias is not None, activation=activation, name=name)
    output = layer(concatenate(inputs))
    weights = [np.asarray(kernel, dtype=np.float32)[:, None]]
    layer.set_weights(weights if bias is None else [*weights, np.array([bias], dtype=np.float32)])
    return output


def pipeline_model(run: Run):
    """The run's final candidate as one Keras model: float RGB 0..255 images (N, H, W, 3) of any size -> (N, 1)
    P(class 1), with resizing, views, preprocessing, backbones, every fold head, clipping and fusion inside."""
    import keras

    from comp.layers import Clip, HorizontalFlip, Logit

    config, scores = run.config()["config"], finished_scores(run)
    members, kind, clipped_name = final_recipe(scores)
    layout = feature_set_layout(config)
    requests = {request.name: request for request in feature_requests(config)}
    image = keras.Input((None, None, 3), name="image")
    networks, pooled = {}, {}

    def features(request_name: str):
        """The pooled vector of one (backbone, view), building each backbone once."""
        if request_name not in pooled:
            request = requests[request_name]
            spec = request.backbone
            if spec.name not in networks:
                resized = keras.layers.Resizing(*spec.input_size, name=f"{spec.name}_resize")(image)
                networks[spec.name] = (resized, spec.preprocessing_layer(), spec.build(request.weights))
            resized, preprocessing, network = networks[spec.name]
            view = HorizontalFlip(name=f"{spec.name}_flip")(resized) if request.view == "flip" else resized
            feature_map = network(preprocessing(view))
            vector = keras.layers.GlobalAveragePooling2D(name=layer_name(f"{request_name}_average"))(feature_map)
            if request.pooling == "avgmax":
                maximum = keras.layers.GlobalMaxPooling2D(name=layer_name(f"{request_name}_max"))(feature_map)
                vector = keras.layers.Concatenate(name=layer_name(f"{request_name}_average_max"))([vector, maximum])
            pooled[request_name] = vector
        return pooled[request_name]

    probabilities = {}
    for member in members:
        entry = scores["models"][member]
        views = [concatenate([features(name) for name in view]) for view in layout[entry["feature_set"]]]
        heads = [head.as_keras(layer_name(f"{member}_fold{fold}"))
                 for fold, head in enumerate(load_fold_heads(run, scores, member))]
        outputs = [head(view) for head in heads for view in views]
        probability = average(outputs)  # the mean over views of each fold, then over folds: equal counts, one mean
        if entry.get("clip"):
            probability = Clip(*entry["clip"], name=layer_name(f"{member}_clip"))(probability)
        probabilities[member] = probability
    if kind == "model":
        fused = probabilities[members[0]]
    elif kind == "blend":
        weights = scores["fusion"]["blend"]["weights"]
        fused = fixed_dense([probabilities[m] for m in members], [weights[m] for m in members], name="blend")
    else:
        stack = scores["fusion"]["stack"]
        logits = [Logit(name=layer_name(f"{member}_logit"))(probabilities[member]) for member in members]
        fused = fixed_dense(logits, [stack["coefficients"][m] for m in members], bias=stack["intercept"],
                            activation="sigmoid", name="stack")
    if clipped_name is not None:
        margin = scores["fusion"][clipped_name]["clip"][0]
        fused = Clip(margin, 1.0 - margin, name="final_clip")(fused)
    return keras.Model(image, fused, name=layer_name(f"{run.config()['competition']}_{scores['final']['name']}"))
