"""Score a predictions CSV of ``comp predict captcha-final`` against a labelled folder's labels.txt: sequence accuracy
(the metric) and value accuracy, e.g. on a fresh generated set or on the other renderer's set.

    python -m competitions.captcha_final.evaluate --predictions answers.csv --data DIR   # DIR/N.png + labels.txt

A bad labels line counts as wrong (reader.py); an id of the folder missing from the CSV stops with one line.
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

import pandas as pd

from comp.errors import CompError
from competitions.captcha_final.reader import read_dataset
from competitions.captcha_final.scoring import sequence_accuracy, value_accuracy


def evaluate(predictions: Path, data_dir: Path) -> dict:
    """{"images", "sequence_accuracy", "value_accuracy", "read_right", "wrong_readings"} of the CSV's formulas against
    ``data_dir``."""
    truth = read_dataset(Path(data_dir)).train
    try:
        answers = pd.read_csv(predictions, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise CompError(f"predictions file {predictions} does not exist (comp predict captcha-final writes it)") from None
    if not {"id", "formulas"} <= set(answers.columns):
        raise CompError(f"{predictions} has the columns {list(answers.columns)}; expected id,formulas,value")
    read = dict(zip(answers["id"].astype(int), answers["formulas"]))
    missing = [image for image in truth["id"] if image not in read]
    if missing:
        raise CompError(f"{predictions} has no answer for image {missing[0]} of {data_dir} ({len(missing)} missing); "
                        f"predict that folder: comp predict captcha-final --run RUN --data {data_dir}")
    labels = truth["label"].to_numpy(dtype=str)
    readings = [read[image] for image in truth["id"]]
    return {"images": len(labels), "read_right": int(sum(label == reading for label, reading in zip(labels, readings))),
            "sequence_accuracy": sequence_accuracy(labels, readings), "value_accuracy": value_accuracy(labels, readings),
            "wrong_readings": wrong_reading_kinds(labels, readings)}


def wrong_reading_kinds(labels, readings) -> dict:
    """How the wrong readings are wrong: {"wrong", "empty", "other_length", "same_length", "dropped" (label characters
    missing from the readings of another length), "dropped_repeats" (of those, the ones beside the same character:
    a repeat that CTC decoding merged, as a network with too few time steps per character does)}."""
    kinds = dict.fromkeys(("wrong", "empty", "other_length", "same_length", "dropped", "dropped_repeats"), 0)
    for label, reading in zip(labels, readings):
        if label == reading:
            continue
        kinds["wrong"] += 1
        if not reading:
            kinds["empty"] += 1
            continue
        if len(reading) == len(label):
            kinds["same_length"] += 1
            continue
        kinds["other_length"] += 1
        for tag, start, end, _, _ in difflib.SequenceMatcher(None, label, reading, autojunk=False).get_opcodes():
            if tag == "delete":
                kinds["dropped"] += end - start
                kinds["dropped_repeats"] += sum(
                    1 for position in range(start, end)
                    if label[position] in (label[position - 1] if position else "", label[position + 1:position + 2]))
    return kinds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, required=True, help="CSV id,formulas,value of comp predict")
    parser.add_argument("--data", type=Path, required=True, help="the labelled folder it answered (labels.txt)")
    arguments = parser.parse_args(argv)
    try:
        scores = evaluate(arguments.predictions, arguments.data)
    except CompError as error:
        raise SystemExit(f"error: {error}") from None
    print(f"sequence accuracy {scores['sequence_accuracy']:.4f} ({scores['read_right']} of {scores['images']}), "
          f"value accuracy {scores['value_accuracy']:.4f}")
    kinds = scores["wrong_readings"]
    print(f"wrong {kinds['wrong']}: {kinds['empty']} empty, {kinds['other_length']} of another length, "
          f"{kinds['same_length']} of the same length; {kinds['dropped']} characters dropped, "
          f"{kinds['dropped_repeats']} of them beside the same character")


if __name__ == "__main__":
    main()
