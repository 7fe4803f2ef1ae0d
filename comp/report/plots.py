"""Matplotlib figures of a run (curves, Optuna history, bars, reliability diagrams) as PNG bytes, Agg backend."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")  # no display: figures are only ever rendered to PNG bytes

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DPI = 90


def figure_png(figure) -> bytes:
    """The figure rendered as PNG bytes; the figure is closed."""
    buffer = io.BytesIO()
    try:
        figure.tight_layout()
        figure.savefig(buffer, format="png", dpi=DPI)
    finally:
        plt.close(figure)
    return buffer.getvalue()


def curve_names(histories: list[dict]) -> list[str]:
    """The per-epoch series (lists of numbers) found in any fold's history, in first-seen order."""
    names: list[str] = []
    for history in histories:
        for name, values in history.items():
            if isinstance(values, list) and values and name not in names:
                names.append(name)
    return names


def training_curves(histories: list[dict], title: str) -> bytes:
    """Every per-epoch series of every fold: one panel per series, one line per fold."""
    names = curve_names(histories)
    figure, axes = plt.subplots(1, len(names), figsize=(3.6 * len(names), 2.8), squeeze=False)
    for axis, name in zip(axes[0], names):
        for fold, history in enumerate(histories):
            values = history.get(name)
            if isinstance(values, list) and values:
                axis.plot(range(1, len(values) + 1), values, marker="o" if len(values) < 3 else None,
                          label=f"fold {fold}")
        axis.set_title(name, fontsize=9)
        axis.set_xlabel("epoch")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.legend(fontsize=7)
    figure.suptitle(title, fontsize=10)
    return figure_png(figure)


def paired_curves(histories: list[dict], *, x: str, y: str, title: str, x_scale: float = 1.0,
                  x_label: str | None = None) -> bytes:
    """Series ``y`` against series ``x`` (e.g. accuracy against seconds trained), one line per fold."""
    figure, axis = plt.subplots(figsize=(5.5, 3.0))
    for fold, history in enumerate(histories):
        if history.get(x) and history.get(y):
            axis.plot(np.asarray(history[x], dtype=float) * x_scale, history[y], marker=".", label=f"fold {fold}")
    axis.set_xlabel(x_label or x)
    axis.set_ylabel(y)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=7)
    axis.set_title(title, fontsize=10)
    return figure_png(figure)


def optuna_history(trials: list[tuple[int, float, bool]], *, direction: str, title: str) -> bytes:
    """Each trial's score by trial number (pruned ones at their last running score) and the best so far."""
    figure, axis = plt.subplots(figsize=(5.5, 3.0))
    complete = [(number, value) for number, value, pruned in trials if not pruned]
    pruned = [(number, value) for number, value, was_pruned in trials if was_pruned]
    if complete:
        numbers, values = zip(*complete)
        axis.scatter(numbers, values, label="complete", zorder=3)
        best = np.minimum.accumulate(values) if direction == "minimize" else np.maximum.accumulate(values)
        axis.step(numbers, best, where="post", color="tab:green", label="best so far")
    if pruned:
        numbers, values = zip(*pruned)
        axis.scatter(numbers, values, marker="x", color="tab:red", label="pruned (running score)", zorder=3)
    axis.set_xlabel("trial")
    axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    axis.set_ylabel("OOF score")
    axis.set_title(title, fontsize=9)
    axis.legend(fontsize=7)
    return figure_png(figure)


def fallback_families(fonts) -> list[str]:
    """The family names of the font files ``fonts``, registered with matplotlib (a glyph the default sans-serif font
    lacks, such as a CJK character, is drawn from the first of them that has it)."""
    families = []
    for path in fonts:
        font_manager.fontManager.addfont(str(path))
        families.append(font_manager.FontProperties(fname=str(path)).get_name())
    return families


def bar_chart(values: dict[str, float], *, title: str, xlabel: str, limits: tuple[float, float] | None = None,
              fallback_fonts=()) -> bytes:
    """Horizontal bars, largest first; labels the default font cannot draw come from ``fallback_fonts`` (files)."""
    ordered = sorted(values.items(), key=lambda item: item[1])
    with plt.rc_context({"font.family": ["sans-serif", *fallback_families(fallback_fonts)]}):
        figure, axis = plt.subplots(figsize=(5.5, 0.35 * len(ordered) + 1.2))
        axis.barh([name for name, _ in ordered], [value for _, value in ordered], color="tab:blue")
        axis.set_xlabel(xlabel)
        axis.set_title(title, fontsize=9)
        axis.tick_params(axis="y", labelsize=8)
        if limits is not None:
            axis.set_xlim(*limits)
        return figure_png(figure)


def reliability_diagram(labels: np.ndarray, predictions: dict[str, np.ndarray], *, bins: int = 10,
                        title: str) -> bytes:
    """Observed frequency of class 1 against mean predicted probability per bin, and how predictions spread."""
    labels = np.asarray(labels, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    figure, (curve_axis, count_axis) = plt.subplots(2, 1, figsize=(5.0, 5.2), sharex=True,
                                                    gridspec_kw={"height_ratios": [3, 1]})
    curve_axis.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
    for name, probability in predictions.items():
        probability = np.asarray(probability, dtype=float)
        bin_of_row = np.clip(np.digitize(probability, edges[1:-1]), 0, bins - 1)
        filled = [b for b in range(bins) if np.any(bin_of_row == b)]
        mean_predicted = [probability[bin_of_row == b].mean() for b in filled]
        observed = [labels[bin_of_row == b].mean() for b in filled]
        curve_axis.plot(mean_predicted, observed, marker="o", label=name)
        count_axis.hist(probability, bins=edges, histtype="step", label=name)
    curve_axis.set_ylabel("observed frequency")
    curve_axis.set_title(title, fontsize=9)
    curve_axis.legend(fontsize=7)
    count_axis.set_xlabel("predicted probability")
    count_axis.set_ylabel("rows")
    count_axis.set_yscale("log")
    return figure_png(figure)


def scatter(x: np.ndarray, y: np.ndarray, *, title: str, xlabel: str, ylabel: str) -> bytes:
    """Points (x, y) with the diagonal y = x, for predicted against true values."""
    figure, axis = plt.subplots(figsize=(5, 5))
    axis.scatter(x, y, s=8, alpha=0.5)
    low, high = float(min(np.min(x), np.min(y))), float(max(np.max(x), np.max(y)))
    axis.plot([low, high], [low, high], color="grey", linewidth=1)
    axis.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return figure_png(figure)
