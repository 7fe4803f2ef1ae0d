"""A fine-tuned member of a run's final candidate inside the exported pipeline (``comp export``): the raw image
resized to the network's input, seen in each test-time view, through every fold's saved network, averaged."""

from __future__ import annotations

import re

from comp._lazy import lazy_import
from comp.io import Run, saved_fold_models
from comp.vision.backbones import preprocessing_layer_class
from comp.vision.finetune._spec import NETWORK_FILE
from comp.vision.heads import custom_layers

keras = lazy_import("keras")


def finetuned_output(run: Run, scores: dict, member: str, image):
    """The fine-tuned model ``member`` (scores.json's entry names its input size and views) on the Keras tensor
    ``image`` (N, H, W, 3) of raw 0..255 RGB: its prediction (N, outputs), the mean over views and folds."""
    entry = scores["models"][member]
    height, width = entry["input_size"]
    prefix = re.sub(r"[^A-Za-z0-9_]+", "_", member)
    resized = keras.layers.Resizing(height, width, name=f"{prefix}_resize")(image)
    views = {view: resized if view == "orig" else custom_layers().View(view, name=f"{prefix}_{view}")(resized)
             for view in entry["views"]}
    preprocessing_layer_class()  # registers the preprocessing layer the saved networks hold
    outputs = []
    for fold, directory in enumerate(saved_fold_models(run, scores, member)):
        network = keras.models.load_model(directory / NETWORK_FILE, compile=False)
        network.name = f"{prefix}_fold{fold}"
        outputs += [network(views[view], training=False) for view in entry["views"]]  # dropout off however called
    return outputs[0] if len(outputs) == 1 else keras.layers.Average(name=f"{prefix}_mean")(outputs)
