"""The classes of a CTC network's output and batched greedy decoding of them, in NumPy (no TensorFlow).

Class 0 is the CTC blank; classes 1..K are the characters of the alphabet in order. Labels are padded with 0,
which is never a target, so a label's length is its number of non-zero classes.
"""

from __future__ import annotations

from functools import reduce

import numpy as np


class CharacterTable:
    """The alphabet of a sequence task: text <-> class indices, and the longest text a network must read."""

    def __init__(self, alphabet: str, longest: int):
        if len(set(alphabet)) != len(alphabet):
            raise ValueError(f"the alphabet {alphabet!r} repeats a character")
        if longest < 1:
            raise ValueError(f"the longest label must be at least 1 character, got {longest}")
        self.alphabet = alphabet
        self.longest = longest
        self.class_of_character = {character: index + 1 for index, character in enumerate(alphabet)}
        self.character_of_class = np.array(["", ""] + list(alphabet))  # indexed by class + 1: -1 (padding), 0 (blank)

    @property
    def n_classes(self) -> int:
        """The blank plus one class per character: the width of the network's output."""
        return len(self.alphabet) + 1

    def encode(self, texts) -> np.ndarray:
        """(n, longest) int32 class indices of ``texts``, padded with 0; ValueError for a too long text or an unknown
        character."""
        encoded = np.zeros((len(texts), self.longest), dtype=np.int32)
        for row, text in enumerate(texts):
            if len(text) > self.longest:
                raise ValueError(f"label {text!r} is longer than {self.longest} characters")
            unknown = next((character for character in text if character not in self.class_of_character), None)
            if unknown is not None:
                raise ValueError(f"label {text!r} has the character {unknown!r}, not in the alphabet")
            encoded[row, :len(text)] = [self.class_of_character[character] for character in text]
        return encoded

    def texts(self, classes: np.ndarray) -> np.ndarray:
        """(n,) strings of an (n, steps) array of classes, blanks (0) and padding (-1) left out, no merging."""
        classes = np.asarray(classes)
        if len(classes) == 0:
            return np.array([], dtype=str)
        if classes.shape[1] == 0:
            return np.full(len(classes), "", dtype=str)
        characters = self.character_of_class[classes + 1]  # (n, steps) one-letter strings
        return reduce(np.char.add, characters.T)


def greedy_decode(logits: np.ndarray, table: CharacterTable) -> np.ndarray:
    """Greedy CTC decoding of (n, steps, n_classes) logits or probabilities into (n,) strings, batched.

    The most likely class per step, repeats merged, blanks dropped: vectorised over the batch (no loop over images).
    """
    logits = np.asarray(logits)
    if logits.ndim != 3 or logits.shape[2] != table.n_classes:
        raise ValueError(f"greedy_decode needs (n, steps, {table.n_classes}) scores, got shape {logits.shape}")
    best = logits.argmax(axis=2)
    repeated = np.zeros_like(best, dtype=bool)
    repeated[:, 1:] = best[:, 1:] == best[:, :-1]
    return table.texts(np.where(repeated, 0, best))
