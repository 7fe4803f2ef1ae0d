"""Report sections for any classification or regression task, from the final candidate's OOF predictions: the
confusion matrix and per-class scores (multi-class, binary), per-label scores and fitted thresholds (multi-label),
predicted against true (regression), and the training images the final model gets most confidently wrong."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from comp.contract import Section
from comp.io import Run
from comp.report import page, plots
from comp.tasks import Task

WRONG_IMAGES = 16
THUMBNAIL_SIDE = 200


def class_names(task: Task) -> list[str]:
    return list(task.classes) if task.classes else ["0", "1"]


def predicted_classes(task: Task, oof: np.ndarray) -> np.ndarray:
    """Class index per row: arg-max of (n, K), or P(class 1) >= 0.5 of (n,)."""
    return oof.argmax(axis=1) if oof.ndim == 2 else (oof >= 0.5).astype(int)


def confusion_section(task: Task, truth: np.ndarray, oof: np.ndarray) -> Section:
    """Counts of true (rows) against predicted (columns) classes, then precision, recall and F1 per class."""
    names = class_names(task)
    predicted = predicted_classes(task, oof)
    matrix = confusion_matrix(truth, predicted, labels=range(len(names)))
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, labels=range(len(names)),
                                                                     zero_division=0)
    counts = page.table(["true \\ predicted", *names], [[name, *row] for name, row in zip(names, matrix.tolist())])
    scores = page.table(["class", "precision", "recall", "F1", "images"],
                        [[name, f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", int(s)]
                         for name, p, r, f, s in zip(names, precision, recall, f1, support)])
    accuracy = float(np.mean(predicted == truth))
    return Section("Confusion matrix and per-class scores (OOF)",
                   page.note(f"Arg-max of the final model's OOF probabilities: accuracy {accuracy:.4f}.")
                   + counts + scores)


def labels_section(task: Task, truth: np.ndarray, oof: np.ndarray, final: dict) -> Section:
    """Precision, recall and F1 of each label at 0.5 (after the fitted thresholds), with those thresholds."""
    predicted = (oof >= 0.5).astype(int)
    precision, recall, f1, support = precision_recall_fscore_support(truth, predicted, zero_division=0)
    thresholds = final.get("thresholds") or [0.5] * len(task.classes)
    rows = [[name, f"{threshold:.2f}", f"{p:.3f}", f"{r:.3f}", f"{f:.3f}", int(s)]
            for name, threshold, p, r, f, s in zip(task.classes, thresholds, precision, recall, f1, support)]
    text = ("Thresholds fitted out of fold on the OOF probabilities (each label's threshold moved to 0.5 in the "
            "final predictions)." if final.get("thresholds") else "No thresholds fitted: every label is cut at 0.5.")
    return Section("Per-label scores (OOF)", page.note(text) +
                   page.table(["label", "threshold", "precision", "recall", "F1", "images"], rows))


def regression_section(truth: np.ndarray, oof: np.ndarray) -> Section:
    """The final model's OOF prediction against the true value of every training image."""
    figure = plots.scatter(truth, oof, title="OOF prediction vs truth", xlabel="true value", ylabel="predicted")
    error = oof - truth
    text = (f"RMSE {np.sqrt(np.mean(error ** 2)):.4f}, MAE {np.mean(np.abs(error)):.4f}, correlation "
            f"{np.corrcoef(truth, oof)[0, 1]:.4f} over {len(truth)} images.")
    return Section("Predicted against true values (OOF)", page.note(text) + page.image(figure, "scatter"))


def wrongness(task: Task, truth: np.ndarray, oof: np.ndarray) -> np.ndarray:
    """How wrong each row is: the probability given to wrong classes or labels, or the absolute error."""
    if task.kind == "multiclass":
        return 1.0 - oof[np.arange(len(truth)), truth]
    if task.kind == "regression":
        return np.abs(oof - truth)
    return np.abs(oof - truth).reshape(len(truth), -1).sum(axis=1)


def describe_prediction(task: Task, row: np.ndarray | float) -> str:
    """One prediction in words: the arg-max class and its probability, P(class 1), the labels over 0.5, or the
    value."""
    if task.kind == "multiclass":
        best = int(np.argmax(row))
        return f"{task.classes[best]} ({row[best]:.3f})"
    if task.kind == "multilabel":
        return " ".join(name for name, value in zip(task.classes, row) if value >= 0.5) or "(none)"
    if task.kind == "binary":
        return f"P({class_names(task)[1]}) = {float(row):.4f}"
    return f"{float(row):.4g}"


def describe_truth(task: Task, row: np.ndarray | float) -> str:
    """One training target in words: its class or labels by name, or its value."""
    if task.kind in ("multiclass", "binary"):
        return class_names(task)[int(row)]
    if task.kind == "multilabel":
        return " ".join(name for name, on in zip(task.classes, row) if on) or "(none)"
    return f"{float(row):.4g}"


def wrong_images_section(task: Task, truth: np.ndarray, oof: np.ndarray, train: pd.DataFrame) -> Section:
    """The training images the final model gets most confidently wrong out of fold, the worst first."""
    badness = wrongness(task, truth, oof)
    if task.kind == "multiclass":
        candidates = np.flatnonzero(oof.argmax(axis=1) != truth)
    elif task.kind == "regression":
        candidates = np.arange(len(truth))
    else:
        candidates = np.flatnonzero(((oof >= 0.5).astype(int) != truth).reshape(len(truth), -1).any(axis=1))
    worst = candidates[np.argsort(-badness[candidates], kind="stable")][:WRONG_IMAGES]
    title = f"The {WRONG_IMAGES} most confidently wrong training images (OOF)"
    if not len(worst):
        return Section(title, page.note("The final model gets every training image right out of fold."))
    cards = []
    for row in worst:
        pixels = page.read_rgb(train["path"][row], THUMBNAIL_SIDE)
        caption = (f"{train['id'][row]}: true {describe_truth(task, truth[row])}\n"
                   f"predicted {describe_prediction(task, oof[row])}")
        cards.append((page.picture(pixels, str(train["id"][row])) if pixels is not None else "(unreadable)", caption))
    return Section(title, page.note(f"{len(candidates)} of {len(truth)} training images are wrong out of fold."
                                    if task.kind != "regression" else "Largest absolute errors first.")
                   + page.gallery(cards))


def classification_sections(run: Run, task: Task, truth: np.ndarray) -> list[Section]:
    """The task's sections for the run's final candidate (``truth``: the targets in the run's row order)."""
    scores = run.read_json("scores.json")
    oof = np.asarray(run.load_predictions(scores["final"]["name"])[0], dtype=float)
    train = run.rows()["train"]
    if task.kind in ("multiclass", "binary"):
        first = confusion_section(task, np.asarray(truth, dtype=int), oof)
    elif task.kind == "multilabel":
        first = labels_section(task, np.asarray(truth, dtype=int), oof, scores["final"])
    else:
        first = regression_section(np.asarray(truth, dtype=float), oof)
    return [first, wrong_images_section(task, np.asarray(truth), oof, train)]
