"""The dogs run's own report section: calibration of the OOF P(dog) before and after clipping."""

from __future__ import annotations

import numpy as np

from comp.contract import Section
from comp.io import Run
from comp.metrics import binary_log_loss
from comp.report import page, plots


def calibration_section(run: Run) -> Section:
    """Reliability diagram of the final candidate's OOF P(dog) without and with its clip."""
    scores = run.read_json("scores.json")
    labels = run.rows()["train"]["label"].to_numpy(dtype=float)
    base = scores["final"]["name"].removesuffix("+clip")
    names = [name for name in (base, f"{base}+clip") if run.file("oof", f"{name}.npy").exists()]
    predictions = {name: run.load_predictions(name)[0] for name in names}
    chart = plots.reliability_diagram(labels, predictions, title=f"OOF calibration of {base}")
    clip = scores.get("fusion", {}).get(f"{base}+clip", {}).get("clip")
    rows = [[name, f"{binary_log_loss(labels, p):.5f}", f"{np.mean((p - labels) ** 2):.5f}",
             f"{p.min():.4f} .. {p.max():.4f}"] for name, p in predictions.items()]
    text = f"Clipped into {clip[0]:g} .. {clip[1]:g} (margin searched on OOF)." if clip else ""
    return Section("Calibration of the OOF predictions (before and after clipping)",
                   page.image(chart, "reliability diagram") + page.note(text) +
                   page.table(["predictions", "log loss", "Brier", "range"], rows))
