"""The dogs run's own report sections: calibration before and after clipping, confidently wrong images, CAMs."""

from __future__ import annotations

import numpy as np

from comp.contract import Section
from comp.errors import CompError
from comp.io import Run
from comp.metrics import binary_log_loss
from comp.report import evenly_spaced_rows, page, plots
from comp.vision.heads import activation_maps, cam_source, overlay

WRONG_IMAGES = 24
CAM_IMAGES = 8
THUMBNAIL_SIDE = 220


def animal(label: int) -> str:
    return "dog" if int(label) == 1 else "cat"


def calibration_section(run: Run, scores: dict, labels: np.ndarray) -> Section:
    """Reliability diagram of the final candidate's OOF P(dog) without and with its clip."""
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


def wrong_section(run: Run, scores: dict, train) -> Section:
    """The training images the final candidate got most confidently wrong out of fold."""
    probability = run.load_predictions(scores["final"]["name"])[0]
    labels = train["label"].to_numpy()
    wrong = np.flatnonzero((probability >= 0.5) != (labels == 1))
    worst = wrong[np.argsort(-np.abs(probability[wrong] - labels[wrong]), kind="stable")][:WRONG_IMAGES]
    title = f"The {WRONG_IMAGES} most confidently wrong training images (OOF)"
    if not len(worst):
        return Section(title, page.note("The final model classifies every training image right out of fold."))
    cards = []
    for row in worst:
        pixels = page.read_rgb(train["path"][row], THUMBNAIL_SIDE)
        caption = f"{train['id'][row]} (a {animal(labels[row])})\nP(dog) = {probability[row]:.4f}"
        cards.append((page.picture(pixels, str(train["id"][row])) if pixels is not None else "(unreadable)", caption))
    return Section(title, page.note(f"{len(wrong)} of {len(labels)} training images are on the wrong side of 0.5 "
                                    f"in {scores['final']['name']}'s OOF predictions; the worst first.")
                   + page.gallery(cards))


def cam_section(run: Run, test) -> Section:
    """Class activation maps of a sample of test images from a linear head on one backbone's pooled features."""
    title = "Class activation maps (test images)"
    try:
        source = cam_source(run)
    except CompError as error:
        return Section(title, page.note(f"No maps: {error}"))
    if source is None:
        return Section(title, page.note(
            "No maps: they need a sigmoid head without hidden layer (dense with hidden_units 0, or logistic) on "
            "average-pooled features of one backbone, and this run has none."))
    rows = evenly_spaced_rows(len(test), CAM_IMAGES)
    paths = [test["path"][row] for row in rows]
    probability = run.load_predictions(source.model)[1]
    maps = activation_maps(run, source, paths)
    cards = []
    for row, path, activation in zip(rows, paths, maps):
        pixels = page.read_rgb(path, THUMBNAIL_SIDE)
        if pixels is None or activation is None:
            continue
        cards.append((page.picture(overlay(pixels, activation), f"CAM of test {test['id'][row]}"),
                      f"test {test['id'][row]}: P(dog) = {probability[row]:.4f}"))
    grid = "x".join(map(str, next((m.shape for m in maps if m is not None), ("?", "?"))))
    explanation = (f"Backbone {source.backbone}: its last convolutional feature map ({grid}) weighted by "
                   f"the {len(source.fold_weights)} fold heads of {source.model} ({source.head} head, mean of the "
                   f"folds' maps, a 1x1 convolution), upsampled and laid over the image. Red: evidence for dog, "
                   f"blue: for cat; the colour scale is per image. P(dog) is that model's test prediction.")
    return Section(title, page.note(explanation) + page.gallery(cards))


def report_sections(run: Run) -> list[Section]:
    scores = run.read_json("scores.json")
    rows = run.rows()
    labels = rows["train"]["label"].to_numpy(dtype=float)
    return [calibration_section(run, scores, labels), wrong_section(run, scores, rows["train"]),
            cam_section(run, rows["test"])]
