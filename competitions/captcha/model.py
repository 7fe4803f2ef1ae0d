"""The captcha's CRNN: the shared ``comp.sequence`` network on 180x60 pictures, 22 time steps, the blank and the 15
characters of ``ALPHABET`` (imports Keras).

The network outputs logits over the CTC blank (class 0) and the characters of ``ALPHABET`` (classes 1..);
the softmax is applied inside the CTC loss and is not needed by greedy decoding (argmax is the same).
"""

from __future__ import annotations

import keras
import numpy as np

from comp.sequence import CharacterTable, greedy_decode
from comp.sequence.network import build_crnn as build_sequence_network
from comp.sequence.network import load_network
from competitions.captcha.expressions import ALPHABET, LONGEST_LABEL
from competitions.captcha.generator import HEIGHT, WIDTH

CHARACTERS = CharacterTable(ALPHABET, LONGEST_LABEL)
N_CLASSES = CHARACTERS.n_classes
CRNN_FILE = "crnn.keras"  # one fold's network in its fold_cache model folder
TIME_STEPS = 22  # the width is pooled down to this many steps: three times the longest expression and more


def encode_labels(expressions) -> np.ndarray:
    """(n, LONGEST_LABEL) int32 class indices of the expressions, padded with 0 (the blank, never a target)."""
    return CHARACTERS.encode(expressions)


def build_crnn(*, channels: int = 1, **architecture) -> keras.Model:
    """uint8 (60, 180, channels) images -> (TIME_STEPS, N_CLASSES) logits; ``architecture``: the arguments of
    ``comp.sequence.network.build_crnn`` (downsample, conv widths, GRU size, ...)."""
    return build_sequence_network(input_shape=(HEIGHT, WIDTH, channels), time_steps=TIME_STEPS, n_classes=N_CLASSES,
                                  **architecture)


def decode(logits: np.ndarray) -> np.ndarray:
    """Greedy CTC decoding of a batch of logits into expression strings, batched (no loop over images)."""
    return greedy_decode(logits, CHARACTERS)


def predict_expressions(model: keras.Model, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """The decoded expression of every image."""
    if len(images) == 0:
        return np.array([], dtype=str)
    return decode(model.predict(images, batch_size=batch_size, verbose=0))


def load_crnn(directory) -> keras.Model:
    """One fold's saved CRNN (``CRNN_FILE`` in ``directory``), for prediction."""
    return load_network(directory / CRNN_FILE, "captcha")
