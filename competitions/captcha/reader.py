"""Read the captcha layout: DIR/0.png, DIR/1.png, ..., DIR/labels.txt (`<expression> <value>` per image), DIR/test/.

Every fault is one CompError naming the file and, for labels.txt, the line.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from comp.contract import Dataset
from comp.errors import CompError, excerpt
from comp.sequence import label_lines, numbered_pngs
from competitions.captcha.expressions import (
    ALPHABET,
    LONGEST_LABEL,
    ExpressionError,
    evaluate,
)

LAYOUT = ("expected DIR/0.png, DIR/1.png, ... and DIR/labels.txt with one '<expression> <value>' line per image "
          "(line 1 for 0.png), and optionally unlabelled DIR/test/N.png")


def numbered_images(directory: Path) -> pd.DataFrame:
    """id (the number N) and path of every N.png in ``directory``, in numeric order; other PNG names are errors."""
    return numbered_pngs(directory, LAYOUT)


def parse_label_line(line: str, number: int, path: Path) -> tuple[str, int]:
    """(expression, value) of labels.txt line ``number``, checked: known characters, well formed, value right."""
    where = f"{path} line {number}"
    parts = line.split()
    if len(parts) == 1:
        raise CompError(f"{where} has no value: {excerpt(line.strip())} (expected '<expression> <value>')")
    if len(parts) != 2:
        raise CompError(f"{where} is {excerpt(line.strip())}; expected '<expression> <value>'")
    expression, value_text = parts
    unknown = next((character for character in expression if character not in ALPHABET), None)
    if unknown is not None:
        raise CompError(f"{where}: expression {excerpt(expression)} has the character {unknown!r}, not one of "
                        f"{ALPHABET}")
    if len(expression) > LONGEST_LABEL:
        raise CompError(f"{where}: expression {excerpt(expression)} is longer than {LONGEST_LABEL} characters")
    try:
        value = int(value_text)
    except ValueError:
        raise CompError(f"{where}: value {excerpt(value_text)} is not an integer") from None
    try:
        expected = evaluate(expression)
    except ExpressionError as error:
        raise CompError(f"{where}: expression {excerpt(expression)} is malformed ({error})") from None
    if value != expected:
        raise CompError(f"{where}: value {value} does not match {expression} = {expected}")
    return expression, value


def read_labels(path: Path) -> list[tuple[str, int]]:
    """Every line of labels.txt parsed; blank lines at the end are ignored, blank lines inside are errors."""
    lines = label_lines(path, LAYOUT)
    labels = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            raise CompError(f"{path} line {number} is empty (expected '<expression> <value>')")
        labels.append(parse_label_line(line, number, path))
    return labels


def match_labels(images: pd.DataFrame, labels: list[tuple[str, int]], labels_path: Path, directory: Path) -> None:
    """Require image N for line N + 1 and a line for every image; name the first image or line at fault."""
    numbers = set(images["id"])
    for number in range(max(len(labels), max(numbers, default=-1) + 1)):
        if number < len(labels) and number not in numbers:
            raise CompError(f"{labels_path} line {number + 1} has no image {directory / f'{number}.png'}")
        if number >= len(labels) and number in numbers:
            raise CompError(f"{labels_path} line {number + 1} is missing: it has {len(labels)} lines but "
                            f"{directory / f'{number}.png'} needs line {number + 1}")


def read_train(directory: Path) -> pd.DataFrame:
    """id, path, label (the expression) and value of every labelled image in ``directory``."""
    images = numbered_images(directory)
    labels_path = directory / "labels.txt"
    labels = read_labels(labels_path)
    if images.empty:
        raise CompError(f"no images in {directory} ({LAYOUT})")
    match_labels(images, labels, labels_path, directory)
    return images.assign(label=[labels[number][0] for number in images["id"]],
                         value=[labels[number][1] for number in images["id"]])


def read_dataset(data_dir: Path) -> Dataset:
    """The labelled images of ``data_dir`` and the unlabelled ones of ``data_dir/test`` (none when absent)."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist ({LAYOUT}; `comp demo captcha` writes one)")
    test_dir = data_dir / "test"
    test = numbered_images(test_dir) if test_dir.is_dir() else pd.DataFrame(columns=["id", "path"])
    return Dataset(data_dir=data_dir, train=read_train(data_dir), test=test)
