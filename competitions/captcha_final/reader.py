"""Read the final round's layout: DIR/0.png, DIR/1.png, ..., DIR/labels.txt (UTF-8, ``<formulas> <value>`` per image,
line 1 for 0.png) and optionally unlabelled DIR/test/N.png.

A bad labels line (no value, a character outside the alphabet, formulas the grammar refuses, a value that does not
match) does not stop the read: the line is named in ``Dataset.inputs["bad_labels"]`` and in one warning, and its
image gets the label ``BAD_LABEL``, which no reading can equal, so it is counted as wrong and never trained on.
Missing files and a labels.txt whose line count does not match the images are one-line CompErrors.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import pandas as pd

from comp.contract import Dataset
from comp.errors import CompError, excerpt
from comp.sequence import label_lines, numbered_pngs
from competitions.captcha_final.formulas import ALPHABET, FormulaError, exact_value, split_label
from competitions.captcha_final.scoring import VALUE_TOLERANCE

logger = logging.getLogger("comp.captcha-final")
LAYOUT = ("expected DIR/0.png, DIR/1.png, ... and DIR/labels.txt (UTF-8) with one '<formulas> <value>' line per "
          "image (line 1 for 0.png), and optionally unlabelled DIR/test/N.png")
BAD_LABEL = "\ufffd"  # the label of an image whose labels line is bad: not in the alphabet, so never read


def label_problem(line: str) -> tuple[str, str]:
    """(formulas, "") for a good labels line, ("", what is wrong) for a bad one."""
    try:
        formulas, value_text = split_label(line)
    except FormulaError:
        return "", f"has no value: {excerpt(line.strip())} (expected '<formulas> <value>')"
    unknown = next((character for character in formulas if character not in ALPHABET), None)
    if unknown is not None:
        return "", f"has the character {unknown!r}, not in the alphabet: {excerpt(formulas)}"
    try:
        value = exact_value(formulas)
    except FormulaError as error:
        return "", f"has formulas the grammar refuses ({error})"
    try:
        stated = Fraction(value_text)
    except (ValueError, ZeroDivisionError):
        return "", f"has the value {excerpt(value_text)}, not a number"
    if abs(stated - value) > VALUE_TOLERANCE:
        return "", f"has the value {value_text}, but its formulas are worth {float(value):.2f}"
    return formulas, ""


def read_labels(path: Path) -> tuple[list[str], list[str]]:
    """(label per line, named problems): a bad line's label is BAD_LABEL; trailing blank lines are ignored."""
    labels, problems = [], []
    for number, line in enumerate(label_lines(path, LAYOUT), start=1):
        formulas, problem = label_problem(line)
        labels.append(formulas or BAD_LABEL)
        if problem:
            problems.append(f"{path} line {number} {problem}")
    return labels, problems


def read_train(directory: Path) -> tuple[pd.DataFrame, list[str]]:
    """(id, path, label of every labelled image in ``directory``; the named bad labels lines)."""
    images = numbered_pngs(directory, LAYOUT)
    labels_path = directory / "labels.txt"
    labels, problems = read_labels(labels_path)
    if images.empty:
        raise CompError(f"no images in {directory} ({LAYOUT})")
    expected = list(range(len(labels)))
    if images["id"].tolist() != expected:
        missing = sorted(set(expected) - set(images["id"]))
        extra = sorted(set(images["id"]) - set(expected))
        what = (f"line {missing[0] + 1} has no image {directory / f'{missing[0]}.png'}" if missing else
                f"has {len(labels)} lines but {directory / f'{extra[0]}.png'} needs line {extra[0] + 1}")
        raise CompError(f"{labels_path} {what} ({LAYOUT})")
    return images.assign(label=labels), problems


def read_dataset(data_dir: Path) -> Dataset:
    """The labelled images of ``data_dir`` and the unlabelled ones of ``data_dir/test`` (none when absent)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist ({LAYOUT}; `comp demo captcha-final` writes one)")
    test_dir = data_dir / "test"
    test = numbered_pngs(test_dir, LAYOUT) if test_dir.is_dir() else pd.DataFrame(columns=["id", "path"])
    train, problems = read_train(data_dir)
    if problems:
        logger.warning("%d bad labels line(s), counted as wrong and not trained on: %s", len(problems),
                       "; ".join(problems))
    return Dataset(data_dir=data_dir, train=train, test=test, inputs={"bad_labels": problems})
