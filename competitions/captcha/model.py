"""The CRNN that reads a captcha: conv blocks, a sequence along the width, two bidirectional GRUs, CTC.

The network outputs logits over the CTC blank (class 0) and the characters of ``ALPHABET`` (classes 1..);
the softmax is applied inside the CTC loss and is not needed by greedy decoding (argmax is the same).
"""

from __future__ import annotations

import math
import time
from functools import reduce

import keras
import numpy as np
from keras import layers, ops

from comp.errors import CompError
from competitions.captcha.expressions import ALPHABET, LONGEST_LABEL
from competitions.captcha.generator import HEIGHT, WIDTH

N_CLASSES = len(ALPHABET) + 1
CRNN_FILE = "crnn.keras"  # one fold's network in its fold_cache model folder
TIME_STEPS = 22  # the width is pooled down to this many steps: three times the longest expression and more
CHARACTER_OF_CLASS = np.array(["", ""] + list(ALPHABET))  # indexed by class + 1: -1 (padding) and 0 (blank) -> ""
CLASS_OF_CHARACTER = {character: index + 1 for index, character in enumerate(ALPHABET)}


def encode_labels(expressions) -> np.ndarray:
    """(n, LONGEST_LABEL) int32 class indices of the expressions, padded with 0 (the blank, never a target)."""
    encoded = np.zeros((len(expressions), LONGEST_LABEL), dtype=np.int32)
    for row, expression in enumerate(expressions):
        if len(expression) > LONGEST_LABEL:
            raise ValueError(f"expression {expression!r} is longer than {LONGEST_LABEL} characters")
        encoded[row, :len(expression)] = [CLASS_OF_CHARACTER[character] for character in expression]
    return encoded


def build_crnn(*, channels: int = 1, downsample: int = 2, conv_widths=(32, 64, 128), convs_per_block: int = 2,
               dense_units: int = 128, gru_units: int = 128, gru_layers: int = 2, dropout: float = 0.25,
               l2: float = 0.0, norm_momentum: float = 0.99, name: str = "crnn") -> keras.Model:
    """uint8 (60, 180, channels) images -> (TIME_STEPS, N_CLASSES) logits.

    ``downsample`` averages k x k pixels first (2 quarters the convolution cost on CPU); each conv block
    halves the height and, while at least TIME_STEPS columns remain, the width. A lower ``norm_momentum``
    lets the batch-norm statistics used for prediction catch up within a few hundred steps (short fits).
    """
    if WIDTH // downsample < TIME_STEPS or HEIGHT // downsample < 2 ** len(conv_widths):
        raise ValueError(f"downsample={downsample} leaves {WIDTH // downsample}x{HEIGHT // downsample} pixels; "
                         f"{len(conv_widths)} conv blocks need {TIME_STEPS} columns and {2 ** len(conv_widths)} rows")
    regulariser = keras.regularizers.L2(l2) if l2 else None
    images = keras.Input((HEIGHT, WIDTH, channels), dtype="uint8", name="image")
    hidden = layers.Rescaling(1.0 / 255, name="scale")(images)
    if downsample > 1:
        hidden = layers.AveragePooling2D(downsample, name="downsample")(hidden)
    for block, width in enumerate(conv_widths):
        for repeat in range(convs_per_block):
            hidden = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_initializer="he_uniform",
                                   kernel_regularizer=regulariser, name=f"conv{block}_{repeat}")(hidden)
            hidden = layers.BatchNormalization(momentum=norm_momentum, name=f"norm{block}_{repeat}")(hidden)
            hidden = layers.ReLU(name=f"relu{block}_{repeat}")(hidden)
        pool_width = 2 if hidden.shape[2] // 2 >= TIME_STEPS else 1
        hidden = layers.MaxPooling2D((2, pool_width), name=f"pool{block}")(hidden)
    if hidden.shape[2] != TIME_STEPS:
        raise ValueError(f"downsample={downsample} with {len(conv_widths)} blocks leaves {hidden.shape[2]} "
                         f"columns; the network needs {TIME_STEPS}")
    hidden = layers.Permute((2, 1, 3), name="columns_first")(hidden)
    hidden = layers.Reshape((TIME_STEPS, hidden.shape[2] * hidden.shape[3]), name="sequence")(hidden)
    hidden = layers.Dense(dense_units, activation="relu", kernel_regularizer=regulariser, name="project")(hidden)
    hidden = layers.Dropout(dropout, name="dropout")(hidden)
    for index in range(gru_layers):
        hidden = layers.Bidirectional(layers.GRU(gru_units, return_sequences=True, kernel_regularizer=regulariser),
                                      name=f"bigru{index}")(hidden)
    logits = layers.Dense(N_CLASSES, kernel_regularizer=regulariser, name="logits")(hidden)
    return keras.Model(images, logits, name=name)


def ctc_loss(labels, logits):
    """Per-image CTC loss; a label's length is its number of non-zero (non-padding) classes."""
    label_length = ops.sum(ops.cast(ops.not_equal(labels, 0), "int32"), axis=-1)
    logit_length = ops.full((ops.shape(logits)[0],), ops.shape(logits)[1], dtype="int32")
    return ops.ctc_loss(labels, logits, label_length, logit_length, mask_index=0)


def decode(logits: np.ndarray) -> np.ndarray:
    """Greedy CTC decoding of a batch of logits into expression strings, batched (no loop over images)."""
    logits = np.asarray(logits, dtype=np.float32)
    if len(logits) == 0:
        return np.array([], dtype=str)
    lengths = np.full(len(logits), logits.shape[1], dtype=np.int32)
    decoded, _ = ops.ctc_decode(logits, lengths, strategy="greedy", mask_index=0)
    characters = CHARACTER_OF_CLASS[ops.convert_to_numpy(decoded[0]) + 1]  # (images, steps) one-letter strings
    return reduce(np.char.add, characters.T)


def predict_expressions(model: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The decoded expression of every image."""
    if len(images) == 0:
        return np.array([], dtype=str)
    return decode(model.predict(images, batch_size=batch_size, verbose=0))


def learning_rate_at(schedule: str, base: float, progress: float) -> float:
    """The learning rate at ``progress`` (0..1) of training.

    ``seed``: the seed's Adam 1e-3, then 1e-4, then 1e-5 (at 60% and 85%), scaled to ``base``;
    ``cosine``: 3% linear warm-up, then cosine decay to 1% of ``base``; ``constant``: ``base``.
    """
    if schedule == "constant":
        return base
    if schedule == "seed":
        return base if progress < 0.6 else base / 10 if progress < 0.85 else base / 100
    if schedule == "cosine":
        warmup = 0.03
        if progress < warmup:
            return base * (0.1 + 0.9 * progress / warmup)
        decayed = (progress - warmup) / (1 - warmup)
        return base * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(decayed, 1.0))))
    raise ValueError(f"unknown learning-rate schedule {schedule!r}; known: seed, cosine, constant")


class ScheduleAndDeadline(keras.callbacks.Callback):
    """Sets the learning rate from the training progress and stops at the deadline.

    Progress is the larger of steps done / planned steps and time spent / time limit, so a fit cut short
    by its time budget still goes through the whole schedule.
    """

    def __init__(self, *, schedule: str, base: float, total_steps: int, time_limit: float | None):
        super().__init__()
        self.schedule, self.base, self.total_steps, self.time_limit = schedule, base, total_steps, time_limit
        self.steps = 0
        self.started = time.perf_counter()

    def progress(self) -> float:
        by_steps = self.steps / max(1, self.total_steps)
        by_time = (time.perf_counter() - self.started) / self.time_limit if self.time_limit else 0.0
        return min(1.0, max(by_steps, by_time))

    def on_train_begin(self, logs=None):
        self.started = time.perf_counter()

    def on_train_batch_begin(self, batch, logs=None):
        self.model.optimizer.learning_rate.assign(learning_rate_at(self.schedule, self.base, self.progress()))

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if self.time_limit and time.perf_counter() - self.started >= self.time_limit:
            self.model.stop_training = True


def compile_crnn(model: keras.Model, *, learning_rate: float, clipnorm: float | None = 5.0) -> keras.Model:
    """Adam on the CTC loss (the rate is then set per batch by ``ScheduleAndDeadline``)."""
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=clipnorm), loss=ctc_loss)
    return model


def load_crnn(directory) -> keras.Model:
    """One fold's saved CRNN (``CRNN_FILE`` in ``directory``), for prediction."""
    path = directory / CRNN_FILE
    if not path.is_file():
        raise CompError(f"the fold network {path} is missing; was this run trained by the captcha competition?")
    return keras.models.load_model(path, compile=False)
