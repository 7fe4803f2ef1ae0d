"""CTC prefix beam search kept to a grammar: a beam only grows into texts the grammar can still complete, and only a
text the grammar accepts is returned. Pure Python over NumPy rows (no TensorFlow); meant as an option beside the
batched greedy decoding, which is faster by orders of magnitude."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from comp.sequence._characters import CharacterTable

NOTHING = float("-inf")  # the log of probability 0
LEAST_PROBABILITY = 1e-4  # a character less likely than this at a step is not tried there (the blank always is)


def log_add(first: float, second: float) -> float:
    """log(exp(first) + exp(second)) without overflow."""
    return float(np.logaddexp(first, second))


def beam_step(beams: dict[str, tuple[float, float]], log_row: np.ndarray, table: CharacterTable,
              allowed: Callable[[str], bool], beam_width: int) -> dict[str, tuple[float, float]]:
    """One time step of prefix beam search: ``beams`` maps a text to (log P ending in blank, log P ending in its last
    character); ``log_row`` is (n_classes,) log-probabilities of the step. The ``beam_width`` most likely texts
    that ``allowed`` accepts are kept."""
    grown: dict[str, list[float]] = {}
    tried = np.flatnonzero(log_row[1:] >= np.log(LEAST_PROBABILITY)) + 1

    def add(text: str, ends_in_blank: bool, log_probability: float) -> None:
        entry = grown.setdefault(text, [NOTHING, NOTHING])
        entry[0 if ends_in_blank else 1] = log_add(entry[0 if ends_in_blank else 1], log_probability)

    for text, (blank, character) in beams.items():
        total = log_add(blank, character)
        add(text, True, total + log_row[0])
        if text:  # the last character held over this step: the same text
            add(text, False, character + log_row[table.class_of_character[text[-1]]])
        for class_index in tried:
            letter = table.alphabet[class_index - 1]
            extended = text + letter
            if not allowed(extended):
                continue
            # a repeated letter is a new character only after a blank
            add(extended, False, (blank if text and text[-1] == letter else total) + log_row[class_index])
    ranked = sorted(grown.items(), key=lambda item: -log_add(*item[1]))[:beam_width]
    return {text: (pair[0], pair[1]) for text, pair in ranked}


def constrained_beam_decode(log_probabilities: np.ndarray, table: CharacterTable, *, is_prefix: Callable[[str], bool],
                            is_complete: Callable[[str], bool], beam_width: int = 8) -> np.ndarray:
    """(n,) texts read from (n, steps, n_classes) log-probabilities (a log-softmax over blank + characters).

    Beams grow only into texts ``is_prefix`` accepts (some completion of them is grammatical); the answer is the most
    likely beam that ``is_complete`` accepts at the last step, or "" (nothing read) when no beam is complete: never a
    text the grammar refuses. ``is_prefix`` answers are remembered over the batch.
    """
    log_probabilities = np.asarray(log_probabilities, dtype=np.float64)
    if log_probabilities.ndim != 3 or log_probabilities.shape[2] != table.n_classes:
        raise ValueError(f"constrained_beam_decode needs (n, steps, {table.n_classes}) log-probabilities, "
                         f"got shape {log_probabilities.shape}")
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    known: dict[str, bool] = {}

    def allowed(text: str) -> bool:
        if text not in known:
            known[text] = len(text) <= table.longest and is_prefix(text)
        return known[text]

    answers = []
    for steps in log_probabilities:
        beams = {"": (0.0, NOTHING)}
        for log_row in steps:
            beams = beam_step(beams, log_row, table, allowed, beam_width)
        ranked = sorted(beams.items(), key=lambda item: -log_add(*item[1]))
        answers.append(next((text for text, _ in ranked if is_complete(text)), ""))
    return np.array(answers, dtype=str)
