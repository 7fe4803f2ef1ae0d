"""The Keras side of sequence reading (imports Keras; plugins load it with ``comp._lazy.lazy_import``): a CRNN (conv
stages, a sequence along the width, bidirectional GRUs, logits over blank + characters), the CTC loss and Adam.

The network outputs logits over the CTC blank (class 0) and the characters (classes 1..); the softmax is applied
inside the CTC loss and is not needed by greedy decoding (argmax is the same).
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers, ops

from comp.compiling import compile_model
from comp.errors import CompError


def stage_repeats(convs_per_block, stages: int) -> tuple[int, ...]:
    """Convolutions per stage: one count for every stage (2) or one per stage ((3, 4, 6), the seed's "346")."""
    repeats = (int(convs_per_block),) * stages if isinstance(convs_per_block, int) else tuple(map(int, convs_per_block))
    if len(repeats) != stages or min(repeats) < 1:
        raise ValueError(f"convs_per_block {convs_per_block!r} does not give 1 or more convolutions to each of "
                         f"{stages} stages")
    return repeats


def pool_widths(columns: int, stages: int, time_steps: int) -> tuple[int, ...] | None:
    """How many columns each conv stage pools (2, 3 or 1) so that ``columns`` end as exactly ``time_steps``, pooling
    by 2 wherever that still reaches it (the rule before 3 existed: 450 columns -> 112 steps is (2, 2, 1)), by 3
    where 2 cannot (450 -> 150 is (3, 1, 1)); None when no choice reaches it."""
    if stages == 0:
        return () if columns == time_steps else None
    for width in (2, 3, 1):
        if columns // width >= time_steps:
            rest = pool_widths(columns // width, stages - 1, time_steps)
            if rest is not None:
                return (width, *rest)
    return None


def build_crnn(*, input_shape: tuple[int, int, int], time_steps: int, n_classes: int, downsample: int = 2,
               conv_widths=(32, 64, 128), convs_per_block=2, dense_units: int = 128, gru_units: int = 128,
               gru_layers: int = 2, dropout: float = 0.25, l2: float = 0.0, regularise_norm: bool = False,
               dense_initializer: str = "glorot_uniform", norm_momentum: float = 0.99,
               name: str = "crnn") -> keras.Model:
    """uint8 (height, width, channels) images -> (time_steps, n_classes) logits.

    ``downsample`` averages k x k pixels first (2 quarters the convolution cost on CPU); each conv stage halves the
    height and pools the width as ``pool_widths`` says, so that exactly ``time_steps`` columns remain.
    ``l2`` regularises conv, GRU and dense kernels (and with ``regularise_norm`` the batch-norm scales and offsets,
    as the seed's "346" network did, with he_uniform as ``dense_initializer``). A lower ``norm_momentum`` lets the
    batch-norm statistics used for prediction catch up within a few hundred steps (short fits).
    """
    height, width, channels = input_shape
    repeats = stage_repeats(convs_per_block, len(conv_widths))
    widths = pool_widths(width // downsample, len(conv_widths), time_steps)
    if widths is None or height // downsample < 2 ** len(conv_widths):
        raise ValueError(f"downsample={downsample} leaves {width // downsample}x{height // downsample} pixels; "
                         f"{len(conv_widths)} conv blocks pooling 1, 2 or 3 columns cannot end at {time_steps} "
                         f"columns, or have fewer than {2 ** len(conv_widths)} rows")
    regulariser = keras.regularizers.L2(l2) if l2 else None
    norm_regulariser = regulariser if regularise_norm else None
    images = keras.Input((height, width, channels), dtype="uint8", name="image")
    hidden = layers.Rescaling(1.0 / 255, name="scale")(images)
    if downsample > 1:
        hidden = layers.AveragePooling2D(downsample, name="downsample")(hidden)
    for block, (conv_width, repeat_count, pool_width) in enumerate(zip(conv_widths, repeats, widths)):
        for repeat in range(repeat_count):
            hidden = layers.Conv2D(conv_width, 3, padding="same", use_bias=False, kernel_initializer="he_uniform",
                                   kernel_regularizer=regulariser, name=f"conv{block}_{repeat}")(hidden)
            hidden = layers.BatchNormalization(momentum=norm_momentum, beta_regularizer=norm_regulariser,
                                               gamma_regularizer=norm_regulariser, name=f"norm{block}_{repeat}")(hidden)
            hidden = layers.ReLU(name=f"relu{block}_{repeat}")(hidden)
        hidden = layers.MaxPooling2D((2, pool_width), name=f"pool{block}")(hidden)
    hidden = layers.Permute((2, 1, 3), name="columns_first")(hidden)
    hidden = layers.Reshape((time_steps, hidden.shape[2] * hidden.shape[3]), name="sequence")(hidden)
    hidden = layers.Dense(dense_units, activation="relu", kernel_initializer=dense_initializer,
                          kernel_regularizer=regulariser, name="project")(hidden)
    hidden = layers.Dropout(dropout, name="dropout")(hidden)
    for index in range(gru_layers):
        hidden = layers.Bidirectional(layers.GRU(gru_units, return_sequences=True, kernel_regularizer=regulariser),
                                      name=f"bigru{index}")(hidden)
    logits = layers.Dense(n_classes, kernel_regularizer=regulariser, name="logits")(hidden)
    return keras.Model(images, logits, name=name)


def ctc_loss(labels, logits):
    """Per-image CTC loss; a label's length is its number of non-zero (non-padding) classes."""
    label_length = ops.sum(ops.cast(ops.not_equal(labels, 0), "int32"), axis=-1)
    logit_length = ops.full((ops.shape(logits)[0],), ops.shape(logits)[1], dtype="int32")
    return ops.ctc_loss(labels, logits, label_length, logit_length, mask_index=0)


def compile_crnn(model: keras.Model, *, learning_rate: float, clipnorm: float | None = 5.0) -> keras.Model:
    """Adam on the CTC loss (the rate is then set per batch by ``comp.vision.scheduled_rate``)."""
    return compile_model(model, optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm), loss=ctc_loss)


def load_network(path: Path, competition: str) -> keras.Model:
    """A saved fold network, for prediction; a missing file is one line naming it and the competition."""
    if not path.is_file():
        raise CompError(f"the fold network {path} is missing; was this run trained by the {competition} competition?")
    return keras.models.load_model(path, compile=False)


def log_probabilities(model: keras.Model, images, batch_size: int = 256):
    """(n, steps, n_classes) float32 log-softmax of the network's logits: what a beam decoder reads."""
    logits = model.predict(images, batch_size=batch_size, verbose=0)
    return ops.convert_to_numpy(ops.log_softmax(logits, axis=-1))
