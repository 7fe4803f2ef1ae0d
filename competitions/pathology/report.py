"""The pathology run's own report sections: predicted and true outlines over sampled images, per-image pixel F1.

All of them show the network model behind the final candidate, marked at that candidate's threshold: held-out
maps saved by its fold networks during training (OOF), its fold-averaged test maps, and its OOF histograms.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from comp.contract import Section
from comp.errors import CompError
from comp.fusion import read_final
from comp.io import Run, saved_fold_models
from comp.report import evenly_spaced_rows, page, plots
from competitions.pathology.masks import (
    read_mask,
    read_slide,
    read_truth_png,
    resize_image,
    scaled_size,
)
from competitions.pathology.recipes import final_network
from competitions.pathology.report_postprocessing import postprocessing_section
from competitions.pathology.scoring import (
    f1_by_threshold,
    pixel_f1_of_masks,
    threshold_bin,
)
from competitions.pathology.submission import full_size_maps

TEST_IMAGES = 8
THUMBNAIL_SIDE = 260
PREDICTED_COLOUR = (255, 220, 0)  # yellow, RGB
TRUE_COLOUR = (0, 190, 0)  # green, RGB
LEGEND = "Outlines: yellow = predicted region, green = true region (pathologist's outline)."
WORST_IMAGES = 5
HELD_OUT_SAMPLES = 2  # held-out slides per fold the outlines are drawn for


def held_out_sample(valid_index: np.ndarray, count: int = HELD_OUT_SAMPLES) -> np.ndarray:
    """Up to ``count`` held-out rows spread evenly over the fold (first, ..., last): a cheap, seed-free sample."""
    return valid_index[evenly_spaced_rows(len(valid_index), count)]


def truth_mask(image_path: str | Path, size: tuple[int, int], *, training: bool) -> np.ndarray | None:
    """An image's true 0/1 mask at ``size`` from labels/<stem>.svg, else masks/<stem>.png beside its image/ folder.

    A training image without either has no positive pixel; a test image without either has no known truth (None).
    """
    image_path = Path(image_path)
    split_dir = image_path.parent.parent
    svg = split_dir / "labels" / f"{image_path.stem}.svg"
    png = split_dir / "masks" / f"{image_path.stem}.png"
    if svg.is_file():
        return read_mask(svg, size, size)
    if png.is_file():
        mask = read_truth_png(png)
        return cv2.resize(mask, (size[1], size[0]), interpolation=cv2.INTER_NEAREST)
    return np.zeros(size, dtype=np.uint8) if training else None


def draw_outlines(thumbnail: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> None:
    """Draw the borders of the regions of a full-size 0/1 ``mask`` onto ``thumbnail`` (in place), in ``colour``."""
    small = resize_image(mask.astype(np.float32), thumbnail.shape[:2]) >= 0.5
    contours, _ = cv2.findContours(small.astype(np.uint8), cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(thumbnail, contours, -1, colour, 1, lineType=cv2.LINE_AA)


def outline_card(image: np.ndarray, probabilities: np.ndarray, threshold: float, truth: np.ndarray | None,
                 label: str) -> tuple[str, str]:
    """(picture, caption) of one RGB image shrunk to a thumbnail with its predicted and (when known) true outlines.

    ``probabilities`` and ``truth`` are at the image's original size; F1 and shares are counted at that size.
    """
    scale = min(1.0, THUMBNAIL_SIDE / max(image.shape[:2]))
    thumbnail = np.ascontiguousarray(resize_image(image, scaled_size(image.shape[:2], scale)))
    predicted = probabilities >= threshold
    caption = f"{label}\nmarked {predicted.mean():.1%} of the pixels"
    if truth is not None:
        draw_outlines(thumbnail, truth, TRUE_COLOUR)
        caption += f", truly positive {truth.mean():.1%}\npixel F1 {pixel_f1_of_masks(truth, predicted):.3f}"
    draw_outlines(thumbnail, predicted, PREDICTED_COLOUR)
    return page.picture(thumbnail, f"outlines of {label}"), caption


def held_out_cards(run: Run, scores: dict, name: str, threshold: float) -> list[tuple[str, str]]:
    """Cards of a sample of the held-out maps the final model's fold networks saved while training
    (``held_out_<row>.npy``)."""
    train = run.rows()["train"]
    cards = []
    for directory in saved_fold_models(run, scores, name):
        fold = directory.parent.name.removeprefix("fold")
        files = {int(path.stem.rsplit("_", 1)[1]): path for path in directory.glob("held_out_*.npy")}
        for row in held_out_sample(np.array(sorted(files), dtype=np.int64)).tolist():
            file = files[row]
            path = train["path"][row]
            image = read_slide(path)
            probabilities = np.clip(resize_image(np.load(file).astype(np.float32), image.shape[:2]), 0, 1)
            cards.append(outline_card(image, probabilities, threshold,
                                      truth_mask(path, image.shape[:2], training=True),
                                      f"{train['id'][row]} (held out in fold {fold})"))
    return cards


def oof_outline_section(run: Run, scores: dict, name: str, threshold: float) -> Section:
    """Outlines over the held-out slides each fold network of the final model kept a map of."""
    title = "Predicted and true outlines (OOF sample)"
    try:
        cards = held_out_cards(run, scores, name, threshold)
    except CompError as error:
        return Section(title, page.note(f"No outlines: {error}"))
    if not cards:
        return Section(title, page.note(f"No outlines: the fold networks of {name} kept no held-out maps (runs "
                                        f"trained before they were saved)."))
    return Section(title, page.note(f"Each fold network of {name} predicting slides it did not train on, marked "
                                    f"at probability >= {threshold:.4f} (final candidate {scores['final']['name']})."
                                    f" {LEGEND}") + page.gallery(cards))


def test_outline_section(run: Run, scores: dict, name: str, threshold: float) -> Section:
    """Outlines over evenly spaced test slides from the final model's fold-averaged test maps."""
    title = "Predicted and true outlines (test sample)"
    test = run.rows()["test"]
    if test.empty:
        return Section(title, page.note("The run has no test images."))
    rows = evenly_spaced_rows(len(test), TEST_IMAGES)
    paths = [test["path"][row] for row in rows]
    images = [read_slide(path) for path in paths]
    sizes = [image.shape[:2] for image in images]
    maps = run.load_predictions(name)[1][rows]
    output_scale = float(run.config()["config"].get("scale", 0.5))
    cards = [outline_card(image, probabilities, threshold, truth_mask(path, size, training=False),
                          f"test {test['id'][row]}")
             for row, path, image, size, probabilities in zip(rows, paths, images, sizes,
                                                              full_size_maps(maps, sizes, output_scale))]
    return Section(title, page.note(f"The mean of the {len(scores['models'][name]['fold_scores'])} fold networks of "
                                    f"{name} (test/{name}.npy), marked at probability >= {threshold:.4f} (final "
                                    f"candidate {scores['final']['name']}); a true outline is drawn where the test "
                                    f"image has labels/<id>.svg or masks/<id>.png. {LEGEND}") + page.gallery(cards))


def per_image_f1(histograms: np.ndarray, threshold: float) -> np.ndarray:
    """Each image's pixel F1 from its own (2, BINS) OOF histogram at ``threshold``."""
    position = threshold_bin(threshold)
    return np.array([f1_by_threshold(histogram)[position] for histogram in histograms])


def f1_histogram_section(run: Run, scores: dict, name: str, threshold: float) -> Section:
    """How pixel F1 spreads over the training images (OOF, at the final threshold), and the worst images."""
    plt = plots.plt

    scores_by_image = per_image_f1(run.load_predictions(name)[0], threshold)
    figure, axis = plt.subplots(figsize=(5.5, 3.0))
    axis.hist(scores_by_image, bins=20, range=(0, 1), color="tab:blue")
    axis.set_xlabel("pixel F1 of one image (OOF)")
    axis.set_ylabel("images")
    axis.set_title(f"{name} at threshold {threshold:.4f}", fontsize=9)
    train = run.rows()["train"]
    worst = np.argsort(scores_by_image, kind="stable")[:WORST_IMAGES]
    rows = [[train["id"][row], f"{scores_by_image[row]:.4f}"] for row in worst]
    text = (f"Pixel F1 of each of the {len(scores_by_image)} training images on its own, from {name}'s out-of-fold "
            f"pixel counts marked at {threshold:.4f} (final candidate {scores['final']['name']}): mean "
            f"{scores_by_image.mean():.4f}, median {np.median(scores_by_image):.4f}. An image with no true positive "
            f"pixel scores 1 when nothing is marked, else 0. The set's score pools all pixels instead.")
    return Section("Per-image pixel F1 (OOF)", page.note(text) + page.image(plots.figure_png(figure),
                                                                            "per-image F1 histogram")
                   + page.table(["lowest-scoring image", "pixel F1"], rows))


def report_sections(run: Run) -> list[Section]:
    """The OOF-fitted post-processing and fusion, outlines over a sample of OOF and of test slides, then the
    per-image F1 histogram."""
    final = read_final(run)
    scores = final.scores
    name, threshold = final_network(final)
    return [postprocessing_section(scores), oof_outline_section(run, scores, name, threshold),
            test_outline_section(run, scores, name, threshold), f1_histogram_section(run, scores, name, threshold)]
