"""The fine-tuned network: raw 0..255 RGB images -> the backbone's preprocessing -> the backbone (called with
``training=False``, so its batch-norm layers always normalise with their ImageNet statistics) -> average pooling ->
layer normalisation (pooled features of unnormalised backbones such as SqueezeNet run into the hundreds, which
makes a new head's first steps diverge; per-image normalisation has no statistics to learn from few batches) ->
dropout -> the task's output layer; and its two training phases."""

from __future__ import annotations

import numpy as np

from comp._lazy import lazy_import
from comp.compiling import compile_model
from comp.vision.backbones import BackboneSpec, ResolvedWeights
from comp.vision.finetune._blocks import set_backbone_trainable

keras = lazy_import("keras")

OUTPUTS = {  # task -> (activation of the output layer, loss)
    "binary": ("sigmoid", "binary_crossentropy"),
    "multiclass": ("softmax", "categorical_crossentropy"),
    "multilabel": ("sigmoid", "binary_crossentropy"),
    "regression": ("linear", "mean_squared_error"),
}
BACKBONE_LAYER = "backbone"


def build_network(backbone: BackboneSpec, weights: ResolvedWeights, size: tuple[int, int], *, task: str,
                  n_outputs: int, dropout: float, seed: int):
    """The network for images (N, height, width, 3) -> (N, n_outputs); the output layer computes in float32 even
    under mixed precision. Its backbone is the layer named ``BACKBONE_LAYER``."""
    if task not in OUTPUTS:
        raise ValueError(f"unknown task {task!r}; known: {', '.join(OUTPUTS)}")
    keras.utils.set_random_seed(seed)
    height, width = size
    images = keras.Input((height, width, 3), name="image")
    network = backbone.build(weights, size)
    network.name = BACKBONE_LAYER
    feature_map = network(backbone.preprocessing_layer()(images), training=False)
    pooled = keras.layers.GlobalAveragePooling2D(name="average_pool")(feature_map)
    normalised = keras.layers.LayerNormalization(name="pooled_normalisation")(pooled)
    dropped = keras.layers.Dropout(dropout, seed=seed, name="dropout")(normalised)
    activation = OUTPUTS[task][0]
    output = keras.layers.Dense(n_outputs, activation=activation, dtype="float32", name="prediction")(dropped)
    return keras.Model(images, output, name=f"finetune_{backbone.name}")


def seed_average(networks: list):
    """One network, images (N, height, width, 3) -> (N, n_outputs), whose output is the mean of ``networks`` (each
    from ``build_network`` at one input size, trained from its own seed; renamed ``seed0``, ``seed1``, ... inside it):
    a fold's seed ensemble, which the run saves, predicts and exports as one model."""
    name = networks[0].name
    images = keras.Input(networks[0].input_shape[1:], name="image")
    for seed_index, network in enumerate(networks):
        network.name = f"seed{seed_index}"
    mean = keras.layers.Average(dtype="float32", name="seed_mean")([network(images) for network in networks])
    return keras.Model(images, mean, name=name)


def backbone_of(model):
    """The backbone inside a network ``build_network`` made (or one loaded back from a fold model)."""
    return model.get_layer(BACKBONE_LAYER)


def training_loss(task: str, label_smoothing: float = 0.0):
    """The loss the network minimises on ``network_targets``: the task's, its targets pulled towards uniform by
    ``label_smoothing`` (a share in [0, 1), classification only), which keeps a network that memorises a few
    thousand images from growing overconfident."""
    if not label_smoothing:
        return OUTPUTS[task][1]
    if task in ("binary", "multilabel"):
        return keras.losses.BinaryCrossentropy(label_smoothing=label_smoothing)
    if task == "multiclass":
        return keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    raise ValueError(f"label smoothing is for classification tasks, not {task!r}; set label_smoothing = 0")


def network_targets(task: str, targets: np.ndarray, n_outputs: int) -> np.ndarray:
    """What the network trains on, float32: classes (n,) one-hot as (n, n_outputs) for a multi-class task (so mixup
    can blend them), the targets as they are otherwise."""
    if task == "multiclass":
        return np.eye(n_outputs, dtype=np.float32)[np.asarray(targets, dtype=np.int64)]
    return np.asarray(targets, dtype=np.float32)


def prepare_phase(model, *, phase: int, unfreeze: str | int, learning_rate: float, task: str, jit_compile: bool,
                  label_smoothing: float = 0.0):
    """Set what trains and compile: phase 1 the head alone (the backbone frozen), phase 2 also the top ``unfreeze``
    blocks of the backbone (batch-norm layers stay frozen), each with a new Adam at ``learning_rate`` on
    ``training_loss(task, label_smoothing)``."""
    backbone = backbone_of(model)
    if phase == 1:
        backbone.trainable = False
    else:
        set_backbone_trainable(backbone, unfreeze)
    compile_model(model, optimizer=keras.optimizers.Adam(learning_rate), loss=training_loss(task, label_smoothing),
                  jit_compile=jit_compile)
