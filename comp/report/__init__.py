"""``report.html``: one self-contained page per run from the shared sections and the plugin's own, built with
``comp.report.page`` (tables, embedded pictures, galleries) and ``comp.report.plots`` (matplotlib figures as PNG)."""

from comp.report import page, plots
from comp.report._classification import classification_sections, describe_prediction
from comp.report._report import evenly_spaced_rows, optuna_section, write_report

__all__ = ["classification_sections", "describe_prediction", "evenly_spaced_rows", "optuna_section", "page", "plots", "write_report"]
