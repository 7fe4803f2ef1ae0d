"""A backbone cut into blocks, for unfreezing its top N blocks in the second fine-tuning phase.

Blocks are found from the graph alone, so every registry backbone has them: walking the layers in topological order,
a block ends at a layer that joins branches (Add, Concatenate, ...) or pools, at a point where nothing computed
earlier is still needed later (a cut of the graph). That gives SqueezeNet's fire modules, ResNet's and MobileNet's
residual blocks, Inception's mixed modules and VGG's pooled stages; blocks without weights (a lone pooling or
activation layer) are not counted.
"""

from __future__ import annotations

from comp._lazy import lazy_import

keras = lazy_import("keras")

BOUNDARY_LAYERS = ("Add", "Concatenate", "Multiply", "MaxPooling2D", "AveragePooling2D")


def input_tensors(layer) -> list:
    """The tensors a layer of a functional model reads (none for an InputLayer)."""
    if isinstance(layer, keras.layers.InputLayer):
        return []
    return keras.tree.flatten(layer.input)


def backbone_blocks(model) -> list[list]:
    """The layers of a functional ``model`` grouped into blocks, bottom first; only blocks holding weights."""
    layers = list(model.layers)
    producer = {id(tensor): index for index, layer in enumerate(layers) for tensor in keras.tree.flatten(layer.output)}
    last_use = list(range(len(layers)))  # the last layer that reads each layer's output
    for index, layer in enumerate(layers):
        for tensor in input_tensors(layer):
            if id(tensor) in producer:
                source = producer[id(tensor)]
                last_use[source] = max(last_use[source], index)
    blocks, current, earlier_reach = [], [], -1  # the last layer reading any output before the current layer's
    for index, layer in enumerate(layers):
        current.append(layer)
        is_cut = earlier_reach <= index  # only this layer's output is needed after it
        if is_cut and type(layer).__name__ in BOUNDARY_LAYERS or index == len(layers) - 1:
            blocks.append(current)
            current = []
        earlier_reach = max(earlier_reach, last_use[index])
    return [block for block in blocks if any(layer.weights for layer in block)]


def is_batch_normalization(layer) -> bool:
    return isinstance(layer, keras.layers.BatchNormalization)


def set_backbone_trainable(model, unfreeze: str | int) -> int:
    """Phase 2: make the top ``unfreeze`` blocks of the backbone ``model`` trainable ("all": every block), the rest
    frozen; batch-norm layers stay frozen (inference mode, statistics kept) on small data. Returns the number of
    trainable backbone weights tensors."""
    blocks = backbone_blocks(model)
    if unfreeze == "all":
        chosen = blocks
    elif isinstance(unfreeze, int) and unfreeze >= 0:
        chosen = blocks[len(blocks) - min(unfreeze, len(blocks)):]
    else:
        raise ValueError(f"unfreeze must be 'all' or a number of blocks >= 0, not {unfreeze!r}")
    model.trainable = True
    unfrozen = {id(layer) for block in chosen for layer in block}
    for layer in model.layers:
        layer.trainable = id(layer) in unfrozen and not is_batch_normalization(layer)
    return len(model.trainable_weights)
