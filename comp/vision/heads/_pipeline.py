"""A feature-head run's final pipeline (raw image -> backbones -> heads -> fusion -> post-processing -> the task's
prediction) as one Keras model, for every task type."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from comp._lazy import lazy_import
from comp.errors import CompError
from comp.fusion import FittedFusion, read_final
from comp.io import Run
from comp.vision.features import feature_requests, feature_set_layout
from comp.vision.heads._inference import load_fold_heads
from comp.vision.heads._layers import custom_layers

keras = lazy_import("keras")


def layer_name(text: str) -> str:
    """``text`` as a Keras layer name (letters, digits and underscores)."""
    return re.sub(r"[^A-Za-z0-9_]+", "_", text).strip("_")


def average(tensors: list):
    return tensors[0] if len(tensors) == 1 else keras.layers.Average()(tensors)


def concatenate(tensors: list):
    return tensors[0] if len(tensors) == 1 else keras.layers.Concatenate()(tensors)


def fixed_dense(inputs: list, kernel, *, bias=None, activation: str | None = None, name: str):
    """``activation(concat(inputs) @ kernel + bias)`` with the fitted fusion weights set: ``kernel`` of shape
    (inputs,) for one output or (inputs, outputs), ``bias`` a float or (outputs,)."""
    kernel = np.asarray(kernel, dtype=np.float32)
    kernel = kernel[:, None] if kernel.ndim == 1 else kernel
    layer = keras.layers.Dense(kernel.shape[1], use_bias=bias is not None, activation=activation, name=name)
    output = layer(concatenate(inputs))
    weights = [kernel]
    layer.set_weights(weights if bias is None else [*weights, np.atleast_1d(np.asarray(bias, dtype=np.float32))])
    return output


def stacked_output(fusion: FittedFusion, outputs: list, n_outputs: int):
    """The task's stacker (``comp.fusion.Stacker``) as layers on the members' outputs, in the arithmetic of
    ``FittedFusion.stacked``: logits (binary), log-probabilities (multiclass), per-label logits (multilabel) or
    values (regression), then the fitted linear map."""
    members, layers = list(fusion.members), custom_layers()
    if fusion.task == "regression":
        return fixed_dense(outputs, [fusion.weights[member] for member in members], bias=fusion.intercept,
                           name="stack")
    if fusion.task == "multilabel":
        logits = [layers.Logit(name=layer_name(f"{member}_logit"))(output) for member, output in zip(members, outputs)]
        return layers.LabelwiseStack([fusion.weights[member] for member in members], fusion.intercept,
                                     name="stack")(logits)
    if fusion.task == "multiclass":
        logs = [layers.LogProbability(name=layer_name(f"{member}_log"))(output)
                for member, output in zip(members, outputs)]
        kernel = np.hstack([np.asarray(fusion.weights[member], dtype=float) for member in members]).T  # (K*M, K')
        scores = fixed_dense(logs, kernel, bias=fusion.intercept, activation="softmax", name="stack")
        classes = list(fusion.classes) or list(range(kernel.shape[1]))
        if classes == list(range(n_outputs)):
            return scores
        selection = np.zeros((len(classes), n_outputs))  # the classes the stacker saw, into their columns
        selection[np.arange(len(classes)), classes] = 1.0
        return fixed_dense([scores], selection, name="stack_classes")
    logits = [layers.Logit(name=layer_name(f"{member}_logit"))(output) for member, output in zip(members, outputs)]
    return fixed_dense(logits, [fusion.weights[member] for member in members], bias=fusion.intercept,
                       activation="sigmoid", name="stack")


def postprocessed_output(fusion: FittedFusion, fused):
    """The fusion's post-processing step as a layer on its output (none when it has none)."""
    params, layers = fusion.params, custom_layers()
    if fusion.postprocessing == "clip":
        return layers.Clip(params["clip"][0], params["clip"][1], name="final_clip")(fused)
    if fusion.postprocessing == "temperature":
        return layers.Tempered(params["temperature"], params["floor"], name="temperature")(fused)
    if fusion.postprocessing == "thresholds":
        return layers.MovedToHalf(params["thresholds"], name="thresholds")(fused)
    if fusion.postprocessing == "cutpoints":
        return layers.Graded(params["cutpoints"], params["lowest_grade"], name="cutpoints")(fused)
    return fused


def fused_output(fusion: FittedFusion, outputs: list, run: Run):
    """The members' outputs combined as fitted (one model, a blend, the task's stack), then post-processed."""
    members = list(fusion.members)
    if fusion.kind == "model":
        fused = outputs[0]
    elif fusion.kind == "blend":
        scaled = [custom_layers().Scaled(fusion.weights[member], name=layer_name(f"{member}_blend_weight"))(output)
                  for member, output in zip(members, outputs)]
        fused = scaled[0] if len(scaled) == 1 else keras.layers.Add(name="blend")(scaled)
    elif fusion.kind == "stack":
        fused = stacked_output(fusion, outputs, int(outputs[0].shape[-1]))
    else:
        raise CompError(f"{run.path}: a {fusion.kind} of the members is not one network; its members and "
                        f"`comp predict` give its predictions")
    return postprocessed_output(fusion, fused)


def pipeline_model(run: Run, network_output: Callable | None = None):
    """The run's final candidate as one Keras model: float RGB 0..255 images (N, H, W, 3) of any size -> its
    prediction ((N, 1) P(class 1) or value, (N, K) class or label probabilities), with resizing, views,
    preprocessing, backbones, every fold head, fusion and post-processing inside. A member that is not a feature
    head (an end-to-end network) is built by ``network_output(run, scores, member, image)``."""
    config, final = run.config()["config"], read_final(run)
    scores, fusion = final.scores, final.fitted_fusion()
    members = list(fusion.members)
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
            view = (resized if request.view == "orig" else
                    custom_layers().View(request.view, name=layer_name(f"{spec.name}_{request.view}"))(resized))
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
        if "feature_set" not in entry:
            if network_output is None:
                raise CompError(f"{run.path}: member {member} is not a feature head and no network builder was given")
            probabilities[member] = network_output(run, scores, member, image)
            continue
        views = [concatenate([features(name) for name in view]) for view in layout[entry["feature_set"]]]
        heads = [head.as_keras(layer_name(f"{member}_fold{fold}"))
                 for fold, head in enumerate(load_fold_heads(run, scores, member))]
        outputs = [head(view) for head in heads for view in views]
        probability = average(outputs)  # the mean over views of each fold, then over folds: equal counts, one mean
        if entry.get("clip"):
            probability = custom_layers().Clip(*entry["clip"], name=layer_name(f"{member}_clip"))(probability)
        probabilities[member] = probability
    fused = fused_output(fusion, [probabilities[member] for member in members], run)
    return keras.Model(image, fused, name=layer_name(f"{run.config()['competition']}_{scores['final']['name']}"))
