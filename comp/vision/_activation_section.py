"""The report's class activation maps for any task: where in each sampled test image a linear head on one backbone
finds its evidence, for the predicted class (multi-class), the most probable label (multi-label), class 1 (binary)
or the value (regression), and for a class the config names (``cam_class``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from comp.contract import Section
from comp.errors import CompError
from comp.io import Run
from comp.report import describe_prediction, evenly_spaced_rows, page
from comp.tasks import Task
from comp.vision.heads import activation_maps, cam_source, class_evidence, overlay

CAM_IMAGES = 8
THUMBNAIL_SIDE = 220
NO_SOURCE = ("No maps: they need a head without hidden layer (dense with hidden_units 0, or logistic) on "
             "average-pooled features of one backbone, and this run has none.")


def chosen_class_index(task: Task, chosen: str | None) -> int | None:
    """The index of the ``cam_class`` the config names (None when it names none); a one-line error naming the
    classes when it is not one of them."""
    if chosen is None:
        return None
    if str(chosen) not in task.classes:
        raise CompError(f"cam_class {chosen!r} is not a class of this run; its classes: {', '.join(task.classes)}")
    return task.classes.index(str(chosen))


def shown_map(task: Task, logit_maps: np.ndarray, prediction: np.ndarray | float,
              class_index: int | None = None) -> tuple[np.ndarray, str]:
    """The (h, w) map to show for one image and what it shows: ``class_index``'s evidence when given, else the
    predicted class's (multi-class), the most probable label's (multi-label) or the one output's map."""
    if logit_maps.ndim == 2:
        return logit_maps, "class 1" if task.kind == "binary" else "the value"
    index = int(np.argmax(prediction)) if class_index is None else class_index
    if task.kind == "multiclass":
        return class_evidence(logit_maps, index), task.classes[index]
    return logit_maps[..., index], task.classes[index]


def cam_section(run: Run, task: Task, test: pd.DataFrame, chosen: str | None = None) -> Section:
    """Class activation maps of a sample of test images, from the best linear head on one backbone's pooled
    features (``comp.vision.heads.cam_source``), for the predicted class and for the ``chosen`` class."""
    title = "Class activation maps (test images)"
    try:
        source = cam_source(run)
        class_index = chosen_class_index(task, chosen)
    except CompError as error:
        return Section(title, page.note(f"No maps: {error}"))
    if source is None:
        return Section(title, page.note(NO_SOURCE))
    rows = evenly_spaced_rows(len(test), CAM_IMAGES)
    prediction = run.load_predictions(source.model)[1]
    maps = activation_maps(run, source, [test["path"][row] for row in rows])
    cards = []
    for row, logit_maps in zip(rows, maps):
        pixels = page.read_rgb(test["path"][row], THUMBNAIL_SIDE)
        if pixels is None or logit_maps is None:
            continue
        caption = f"test {test['id'][row]}: {describe_prediction(task, prediction[row])}"
        for index in [None] if class_index is None or logit_maps.ndim == 2 else [None, class_index]:
            activation, shows = shown_map(task, logit_maps, prediction[row], index)
            cards.append((page.picture(overlay(pixels, activation), f"CAM of test {test['id'][row]}"),
                          f"{caption}\nevidence for {shows}"))
    grid = "x".join(map(str, next((m.shape[:2] for m in maps if m is not None), ("?", "?"))))
    explanation = (f"Backbone {source.backbone}: its last convolutional feature map ({grid}) weighted by the "
                   f"{len(source.fold_weights)} fold heads of {source.model} ({source.head} head, mean of the folds' "
                   f"maps, a 1x1 convolution), upsampled and laid over the image. Red: evidence for the class named "
                   f"under the image, blue: against it (a softmax head's class logit minus the mean of its classes' "
                   f"logits); the colour scale is per image. The prediction is that model's test prediction."
                   + (f" Each image also shows the evidence for {chosen!r} (cam_class)." if class_index is not None
                      else " Set cam_class in the config to also see one class's evidence."))
    return Section(title, page.note(explanation) + page.gallery(cards))
