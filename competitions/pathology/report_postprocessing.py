"""The report's view of the OOF-fitted post-processing and fusion: which model wins on OOF, every candidate's pixel
and object-level scores (OOF, and test where the test slides have outlines), and each chain's per-step OOF effects.
"""

from __future__ import annotations

from comp.contract import Section
from comp.report import page

SCORE_NAMES = ("pixel_f1", "object_f1", "object_dice", "object_hausdorff")
SCORE_HEADERS = ["pixel F1", "object F1", "object Dice", "object Hausdorff (px)"]


def score_cells(scores: dict | None) -> list[str]:
    """The four scores formatted as table cells (blank when not recorded)."""
    return [f"{scores[name]:.4f}" if scores and name in scores else "" for name in SCORE_NAMES]


MODEL_VARIANTS = ("", "+threshold", "+postprocessing")  # a model at 0.5 and its own post-processed candidates


def model_ranking(scores: dict) -> str:
    """A table of the network models with the OOF pixel F1 of each at 0.5, with its threshold and with its chain
    (all fitted out of fold), and a sentence naming the one whose best is highest: the winner on OOF."""
    fusion = scores.get("fusion", {})
    rows = []
    for name, entry in scores.get("models", {}).items():
        variants = [entry["score"], *(fusion.get(name + suffix, {}).get("score") for suffix in MODEL_VARIANTS[1:])]
        best = max(value for value in variants if value is not None)
        rows.append([name, *(f"{value:.4f}" if value is not None else "" for value in variants), f"{best:.4f}",
                     entry.get("network", ""), best])
    if not rows:
        return ""
    rows.sort(key=lambda row: -row[-1])
    winner = rows[0]
    return (page.note(f"On OOF the best network is {winner[0]} (pixel F1 {winner[4]}, its best candidate).")
            + page.table(["model", "OOF pixel F1 at 0.5", "+threshold", "+postprocessing", "best", "network"],
                         [row[:-1] for row in rows], highlight=winner[0]))


def candidate_table(scores: dict) -> str:
    """Every map-based candidate (those with object scores) with its OOF and test scores."""
    fusion = scores.get("fusion", {})
    rows = [[name, *score_cells(entry.get("oof_scores")), *score_cells(entry.get("test_scores"))]
            for name, entry in fusion.items() if "oof_scores" in entry]
    if not rows:
        return page.note("No post-processed candidates (postprocessing = false, or a run trained before them).")
    headers = ["candidate", *(f"OOF {header}" for header in SCORE_HEADERS), *(f"test {header}" for header in
                                                                              SCORE_HEADERS)]
    return page.table(headers, rows, highlight=scores.get("final", {}).get("name"))


def effects_tables(scores: dict) -> str:
    """One table per ``+postprocessing`` candidate: each step's fitted value (all OOF rows, and per fold) and the OOF
    pixel F1 and object F1 before and after it."""
    parts = []
    for name, entry in scores.get("fusion", {}).items():
        if "effects" not in entry:
            continue
        rows = [[effect["step"], str(effect["value"]), ", ".join(map(str, effect["fold_values"])),
                 f"{effect['pixel_f1_before']:.4f}", f"{effect['pixel_f1_after']:.4f}",
                 f"{effect['object_f1_before']:.4f}", f"{effect['object_f1_after']:.4f}"]
                for effect in entry["effects"]]
        parts.append(page.note(f"{name}: steps fitted on OOF {entry.get('chain_metric', 'pixel_f1')} (a step is kept "
                               f"only when it improves it on its fitting rows; each fold's values come from the other "
                               f"folds). Scores at the maps' output scale.")
                     + page.table(["step", "value (all OOF)", "value per fold", "pixel F1 before", "pixel F1 after",
                                   "object F1 before", "object F1 after"], rows))
    return "".join(parts)


def postprocessing_section(scores: dict) -> Section:
    """The models ranked on OOF, every map-based candidate's scores and the chains' per-step OOF effects."""
    body = (model_ranking(scores) + page.note("Candidates made from the OOF probability maps: pixel F1 and the GlaS "
                                              "object scores at the original size (test: scored only, never fitted "
                                              "on).") + candidate_table(scores) + effects_tables(scores))
    return Section("Post-processing and fusion fitted on OOF", body)
