"""The training seconds of one fit under ``--time-budget``: the budget split over the folds and trials."""

from __future__ import annotations


def fold_seconds(config: dict, training_share: float) -> float | None:
    """Seconds one fold trains: ``training_share`` (the rest is for validation and prediction) of the budget
    (minutes, ``config["time_budget"]``) over folds x trials; None without a budget."""
    if not config.get("time_budget"):
        return None
    fits = int(config["folds"]) * max(1, int(config.get("trials") or 0))
    return float(config["time_budget"]) * 60 * training_share / fits
