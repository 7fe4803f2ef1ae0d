"""The report's fine-tuning section: each fine-tuned model's held-out loss per test-time view (so which views help
is read on OOF), each seed's against their mean where folds average several seeds (so whether more seeds pay is read
on OOF too), and the pseudo-label round against its first round on the same folds."""

from __future__ import annotations

import numpy as np

from comp.contract import Section
from comp.report import page


def view_rows(scores: dict) -> tuple[list[str], list[list]]:
    """(headers, rows): per fine-tuned model, the mean over folds of its held-out loss in each view and their mean."""
    rows, views = [], []
    for name, entry in scores.get("models", {}).items():
        losses = [history["tta_valid_loss"] for history in entry.get("histories", []) if "tta_valid_loss" in history]
        if entry.get("kind") != "finetune" or not losses:
            continue
        views = views or list(losses[0])
        rows.append([name, *[f"{np.mean([fold[view] for fold in losses]):.5f}" for view in views]])
    return ["model", *views], rows


def seed_rows(scores: dict) -> list[list]:
    """Per fine-tuned model averaging seeds, and fold: each seed's held-out loss (views averaged) and their mean's."""
    rows = []
    for name, entry in scores.get("models", {}).items():
        for fold, history in enumerate(entry.get("histories", [])):
            losses = dict(history.get("seed_valid_loss", {}))
            if losses:
                mean = losses.pop("mean")
                rows.append([f"{name} fold {fold}", " ".join(f"{loss:.5f}" for loss in losses.values()), f"{mean:.5f}"])
    return rows


def pseudo_label_rows(scores: dict) -> list[list]:
    """Per second-round model and fold: the fold's score in round 1 and round 2, the test images it pseudo-labelled
    and the confidence threshold; then both overall OOF scores."""
    models, rows = scores.get("models", {}), []
    for name, entry in models.items():
        first = models.get(entry.get("pseudo_labels_from") or "")
        if first is None:
            continue
        for fold, (before, after, history) in enumerate(zip(first["fold_scores"], entry["fold_scores"],
                                                            entry.get("histories", []))):
            labels = history.get("pseudo_labels", {})
            rows.append([f"{name} fold {fold}", f"{before:.5f}", f"{after:.5f}", labels.get("test_rows", ""),
                         f"{labels['threshold']:.4f}" if "threshold" in labels else ""])
        rows.append([f"{name} OOF", f"{first['score']:.5f}", f"{entry['score']:.5f}", "", ""])
    return rows


def finetune_section(scores: dict) -> Section | None:
    """The section for a run's scores.json; None when the run fine-tuned nothing."""
    headers, rows = view_rows(scores)
    if not rows:
        return None
    metric = scores.get("metric", "score")
    body = page.note("Held-out loss of each fold's network per test-time view (mean over folds; the task's training "
                     "loss) and of the views' mean, which the model predicts.") + page.table(headers, rows)
    seeds = seed_rows(scores)
    if seeds:
        body += page.note("Seed ensembles: each fold's model is the mean of networks fine-tuned from different seeds; "
                          "each seed's held-out loss and the mean's (views averaged in both).")
        body += page.table(["fold", "each seed", "their mean"], seeds)
    pseudo = pseudo_label_rows(scores)
    if pseudo:
        body += page.note(f"Pseudo-labels: round 2 (fold k also trained on the test images fold k's round-1 network "
                          f"labelled above the confidence threshold) against round 1, {metric} on the same folds.")
        body += page.table(["fold", f"round 1 {metric}", f"round 2 {metric}", "pseudo-labelled test images",
                            "confidence threshold"], pseudo)
    return Section("Fine-tuned networks: test-time views and pseudo-labels", body)
