"""The report sections of a sequence-reading run, shared by both captcha rounds: held-out accuracy against time,
accuracy per character, the most confused character pairs and a gallery of the images read wrong out of fold.

Each true text is aligned with its OOF reading by least edits, so a dropped or added character is one gap and not
a shift of everything after it; the tallies count every true character once.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from comp.contract import Section
from comp.io import Run
from comp.report import page, plots
from comp.sequence._time_curve import accuracy_over_time_section

WRONG_IMAGES = 24
CONFUSED_PAIRS = 15
MISSING = ""  # the other side of a character that was dropped or added


def align(truth: str, reading: str) -> list[tuple[str, str]]:
    """A least-edits alignment of the two strings as (truth character, read character) pairs; "" marks a gap."""
    rows, columns = len(truth) + 1, len(reading) + 1
    cost = np.zeros((rows, columns), dtype=np.int64)
    cost[:, 0], cost[0, :] = np.arange(rows), np.arange(columns)
    for i in range(1, rows):
        for j in range(1, columns):
            cost[i, j] = min(cost[i - 1, j - 1] + (truth[i - 1] != reading[j - 1]), cost[i - 1, j] + 1,
                             cost[i, j - 1] + 1)
    pairs, i, j = [], len(truth), len(reading)
    while i or j:
        if i and j and cost[i, j] == cost[i - 1, j - 1] + (truth[i - 1] != reading[j - 1]):
            pairs.append((truth[i - 1], reading[j - 1]))
            i, j = i - 1, j - 1
        elif i and cost[i, j] == cost[i - 1, j] + 1:
            pairs.append((truth[i - 1], MISSING))
            i -= 1
        else:
            pairs.append((MISSING, reading[j - 1]))
            j -= 1
    return pairs[::-1]


def character_tallies(truths: Iterable[str], readings: Iterable[str]) -> tuple[Counter, Counter, Counter]:
    """Occurrences of each true character, how many were read right, and every (truth, read) confusion."""
    occurrences, right, confusions = Counter(), Counter(), Counter()
    for truth, reading in zip(truths, readings):
        for expected, read in align(str(truth), str(reading)):
            if expected != MISSING:
                occurrences[expected] += 1
            if expected == read:
                right[expected] += 1
            else:
                confusions[(expected, read)] += 1
    return occurrences, right, confusions


def shown(character: str) -> str:
    return character if character != MISSING else "(nothing)"


def character_section(occurrences: Counter, right: Counter, model: str, fonts: tuple[Path, ...] = ()) -> Section:
    """Each true character's share read right, as bars and a table; ``fonts`` draw labels the default font lacks."""
    accuracy = {character: right[character] / count for character, count in sorted(occurrences.items())}
    rows = [[character, occurrences[character], right[character], f"{value:.3f}"]
            for character, value in accuracy.items()]
    body = page.note(f"Each true character of the training images, aligned with {model}'s OOF reading "
                     f"(least edits); right when read as itself.")
    if accuracy:
        body += page.image(plots.bar_chart({f"'{c}'": v for c, v in accuracy.items()}, title="accuracy per character",
                                           xlabel="share read right", limits=(0, 1), fallback_fonts=fonts),
                           "accuracy per character")
    return Section("Accuracy per character", body + page.table(["character", "occurrences", "read right",
                                                                "accuracy"], rows))


def confusion_section(occurrences: Counter, confusions: Counter) -> Section:
    """The most frequent (true, read) character pairs that differ, a gap counted as '(nothing)'."""
    rows = [[shown(expected), shown(read), count,
             f"{count / occurrences[expected]:.3f}" if expected != MISSING else "-"]
            for (expected, read), count in confusions.most_common(CONFUSED_PAIRS)]
    body = page.table(["true character", "read as", "times", "share of its occurrences"], rows) if rows else \
        page.note("No character was misread.")
    return Section("Most confused character pairs", body)


def wrong_section(train: pd.DataFrame, truths: np.ndarray, readings: np.ndarray, model: str,
                  picture_of: Callable[[str], np.ndarray | None], shows: str) -> Section:
    """The first ``WRONG_IMAGES`` training images read wrong out of fold, each ``picture_of(path)`` ((h, w, 3) RGB
    uint8, None when unreadable) with its truth and reading; ``shows`` says what the pictures are."""
    wrong = np.flatnonzero(truths != readings)
    cards = []
    for row in wrong[:WRONG_IMAGES]:
        pixels = picture_of(train["path"][row])
        caption = f"image {train['id'][row]}\ntruth: {truths[row]}\nread: {readings[row] or '(nothing)'}"
        cards.append((page.picture(pixels, f"captcha {train['id'][row]}") if pixels is not None else "(unreadable)",
                      caption))
    note = page.note(f"{len(wrong)} of {len(truths)} training images are read wrong by {model} out of fold; "
                     f"the first {len(cards)} are shown ({shows}).")
    return Section("Wrong predictions (OOF)", note + page.gallery(cards))


def reading_sections(run: Run, *, picture_of: Callable[[str], np.ndarray | None] = page.read_rgb,
                     shows: str = "the images as they are", fonts: tuple[Path, ...] = (),
                     untallied: tuple[str, ...] = ()) -> list[Section]:
    """The report sections of a finished run whose final candidate reads texts: accuracy against time (when the fits
    kept the clock), accuracy per character, confused pairs, the wrong readings' gallery.

    ``picture_of(path)`` draws a gallery picture, ``shows`` names what it draws; ``fonts`` (font files) draw
    characters the plot's default font lacks (CJK); rows whose truth is in ``untallied`` (a bad labels line's
    placeholder) are left out of the character counts but still shown as wrong.
    """
    scores = run.read_json("scores.json")
    model = scores["final"]["name"]
    train = run.rows()["train"]
    truths = train["label"].to_numpy(dtype=str)
    readings = run.load_predictions(model)[0].astype(str)
    tallied = ~np.isin(truths, list(untallied))
    occurrences, right, confusions = character_tallies(truths[tallied], readings[tallied])
    sections = [accuracy_over_time_section(scores), character_section(occurrences, right, model, fonts),
                confusion_section(occurrences, confusions),
                wrong_section(train, truths, readings, model, picture_of, shows)]
    return [section for section in sections if section is not None]
