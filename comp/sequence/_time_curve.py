"""The report section of held-out sequence accuracy against minutes trained (the histories' ``elapsed_s`` and
``val_sequence_accuracy``, written after every epoch by ``comp.sequence.fitting.AccuracyClock``)."""

from __future__ import annotations

from comp.contract import Section
from comp.report import page, plots


def accuracy_over_time_section(scores: dict) -> Section | None:
    """Held-out sequence accuracy after each epoch against minutes trained, per fold of every network in the run's
    scores.json; None when no history has the clock."""
    images = [page.image(plots.paired_curves(entry["histories"], x="elapsed_s", y="val_sequence_accuracy",
                                             x_scale=1 / 60, x_label="minutes trained", title=name),
                         f"accuracy against training time of {name}")
              for name, entry in scores.get("models", {}).items()
              if any(history.get("elapsed_s") for history in entry.get("histories", []))]
    if not images:
        return None
    note = page.note("Whole-sequence accuracy on the fold's watched held-out images after every epoch "
                     "(`validation_images` of them), against wall-clock minutes of training.")
    return Section("Accuracy against training time", note + f'<div class="plots">{"".join(images)}</div>')
