"""From network outputs to formulas, without TensorFlow: the character table of the final round, greedy CTC decoding
or the beam decoder kept to the formula grammar (``decoder = "grammar"``, a run's default)."""

from __future__ import annotations

import numpy as np

from comp.sequence import CharacterTable, constrained_beam_decode, greedy_decode
from competitions.captcha_final.formulas import ALPHABET, LONGEST_FORMULAS, is_grammatical
from competitions.captcha_final.grammar_prefix import is_formula_prefix

CHARACTERS = CharacterTable(ALPHABET, LONGEST_FORMULAS)
# The 900 strip columns pooled to 150 steps, over three per character of the longest label (46). At 112 steps half
# the characters a 120-minute network dropped were one of a repeated pair (CTC needs a blank step between them); 150
# cost 17% more time a step of 32 in one train_on_batch timing (1.59 s against 1.36, 2026-11-27), nothing in the
# next (1.68 against 1.89: 2-core timings move by 15%); 225 steps cost 87% (2.28 s against 1.22).
TIME_STEPS = 150
DECODERS = ("greedy", "grammar")
DEFAULT_DECODER = "grammar"  # what a run answers with unless its config says otherwise (README, "Decoding")


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """(n, steps, classes) log-probabilities of logits along the last axis."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def decode_formulas(logits: np.ndarray, decoder: str = "greedy", beam_width: int = 8) -> np.ndarray:
    """(n,) formulas read from (n, TIME_STEPS, n_classes) logits; ``grammar`` returns only grammatical formulas
    (or "" where no beam completes them)."""
    if decoder == "greedy":
        return greedy_decode(logits, CHARACTERS)
    if decoder == "grammar":
        return constrained_beam_decode(log_softmax(logits), CHARACTERS, is_prefix=is_formula_prefix,
                                       is_complete=is_grammatical, beam_width=beam_width)
    raise ValueError(f"unknown decoder {decoder!r}; known: {', '.join(DECODERS)}")


def spelled_logits(texts: list[str], noise: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
    """(n, TIME_STEPS, n_classes) float32 logits a confident reader would give: each text spelled one character every
    other step, blank everywhere else (logit 12 for the blank, 20 for the character), plus Gaussian noise of standard
    deviation ``noise``. Decoding tests and the decoding bench use them as a trained network's outputs."""
    logits = np.zeros((len(texts), TIME_STEPS, CHARACTERS.n_classes), dtype=np.float32)
    logits[:, :, 0] = 12.0
    for row, text in enumerate(texts):
        for position, character in enumerate(text):
            logits[row, 2 * position, CHARACTERS.class_of_character[character]] = 20.0
    if noise:
        logits += (rng or np.random.default_rng(0)).normal(0.0, noise, logits.shape).astype(np.float32)
    return logits
