"""The seed's recombination augmentation: a new training sample is an expression line paired with assignment lines
of the same variables cropped from other images, so a few thousand labelled images give many more formulas.

A pool holds the line crops of source images whose crop found exactly one line per formula; a recombined sample's
label is the assignments' texts (in random order, as the organisers drew them) then the expression, joined by ';',
and its strip holds those very crops in that order.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

import numpy as np

from competitions.captcha_final.cropping import crops_strip


@dataclass(frozen=True)
class Line:
    """One formula line of a source image: its text and its crop ((rows, columns) uint8, ink bright)."""

    text: str
    crop: np.ndarray
    source: int


def by_source(line: Line) -> int:
    """The sort key keeping a pool's lists in source order."""
    return line.source


class CropPool:
    """Line crops of source images, indexed for recombination: the expressions, and the assignments per variable."""

    def __init__(self):
        self.expressions: list[tuple[Line, tuple[str, ...]]] = []  # (expression line, its assigned variables)
        self.assignments: dict[str, list[Line]] = {}
        self.sources = 0

    def add(self, formulas: str, crops: list[np.ndarray], source: int | None = None) -> bool:
        """Add one source image's lines (``crops`` top to bottom) under id ``source`` (default: the count of sources
        added so far); False (the source counted, nothing added) when the crop count is not the formulas' line count,
        so every pooled crop shows the text it is filed under."""
        texts = formulas.split(";")
        source = self.sources if source is None else source
        self.sources += 1
        if len(texts) != len(crops):
            return False
        *assignments, expression = [Line(text, crop, source) for text, crop in zip(texts, crops)]
        for line in assignments:  # every list stays in source order, so a draw need not sort it
            bisect.insort(self.assignments.setdefault(line.text[0], []), line, key=by_source)
        bisect.insort(self.expressions, (expression, tuple(line.text[0] for line in assignments)),
                      key=lambda entry: by_source(entry[0]))
        return True

    def drop(self, sources: set[int]) -> None:
        """Forget every line of the source images ``sources`` (a sliding pool's old renders)."""
        self.expressions = [entry for entry in self.expressions if entry[0].source not in sources]
        self.assignments = {variable: [line for line in lines if line.source not in sources]
                            for variable, lines in self.assignments.items()}

    def recombined(self, rng: random.Random,
                   sources: set[int] | None = None) -> tuple[np.ndarray, str, tuple[Line, ...]] | None:
        """(80x900 strip, its formulas, the lines used, assignments first) of one recombined sample: a random
        expression and, for each of its variables, an assignment of that variable from another source image; None
        when the pool has no such assignment for the chosen expression. Only the source images ``sources`` are drawn
        from (all by default), taken in source order, so a pool filled in any order gives the same samples."""
        def usable(line: Line) -> bool:
            return sources is None or line.source in sources

        expressions = [entry for entry in self.expressions if usable(entry[0])]
        if not expressions:
            return None
        expression, variables = rng.choice(expressions)
        chosen = []
        for variable in variables:
            others = [line for line in self.assignments.get(variable, [])
                      if line.source != expression.source and usable(line)]
            if not others:
                return None
            chosen.append(rng.choice(others))
        rng.shuffle(chosen)
        lines = (*chosen, expression)
        return crops_strip([line.crop for line in lines]), ";".join(line.text for line in lines), lines
