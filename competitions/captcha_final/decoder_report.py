"""The report section comparing the two decoders on each fold's watched held-out strips (``compare_decoders``): the
evidence for the config's ``decoder``."""

from __future__ import annotations

from comp.contract import Section
from comp.report import page
from competitions.captcha_final.reading import DECODERS


def decoder_section(scores: dict, decoder: str) -> Section | None:
    """Greedy and grammar sequence accuracy per fold of every network in the run's scores.json and their mean; None
    when no fold compared them. ``decoder`` is the one the run answered with."""
    rows = []
    for name, entry in scores.get("models", {}).items():
        for fold, history in enumerate(entry.get("histories", [])):
            if all(f"{each}_sequence_accuracy" in history for each in DECODERS):
                rows.append([name, fold, *(history[f"{each}_sequence_accuracy"] for each in DECODERS)])
    if not rows:
        return None
    means = [sum(row[column] for row in rows) / len(rows) for column in (2, 3)]
    table = page.table(["network", "fold", "greedy", "grammar"],
                       [[*row[:2], *(f"{value:.4f}" for value in row[2:])] for row in rows] +
                       [["mean", "", *(f"{value:.4f}" for value in means)]])
    note = page.note(f"Whole-sequence accuracy of each fold's final network on its watched held-out strips, read "
                     f"greedily and by the grammar-constrained beam; this run answered with `{decoder}`. The "
                     f"accuracy-against-time curve reads greedily (the beam would cost seconds every epoch).")
    return Section("Greedy against grammar decoding", note + table)
