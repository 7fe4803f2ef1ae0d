"""One reading of a finished run's final candidate, for ``comp predict``, exports and reports."""

from __future__ import annotations

from dataclasses import dataclass

from comp.errors import CompError
from comp.fusion._fitted import FittedFusion
from comp.fusion._postprocessing import STEPS
from comp.io import Run

FUSED_FROM = ("members", "weights", "coefficients")  # where a fusion's details name the models it is made of
FUSION_KINDS = {"members": "vote", "weights": "blend", "coefficients": "stack"}  # the same keys: how it fuses them


@dataclass(frozen=True)
class FinalCandidate:
    """The candidate a finished run chose. ``name`` is ``<base>[+<post-processing>]``: ``base`` a model or a fusion
    (``kind`` "model", or the fusion's name: "blend", "stack", "vote"), ``postprocessing`` e.g. "clip" or
    "threshold", whose fitted values are in ``details``; ``members`` are the models the base is made of."""

    name: str
    score: float
    base: str
    kind: str
    members: list[str]
    postprocessing: str | None
    details: dict
    scores: dict

    def fitted_fusion(self) -> FittedFusion:
        """How the candidate combines its members' predictions, with the values fitted in training, to re-apply it
        to new rows; a CompError when it ends in a plugin's own post-processing (e.g. pathology's "threshold"),
        which only that plugin can re-apply."""
        if self.postprocessing is not None and self.postprocessing not in STEPS:
            raise CompError(f"the final candidate {self.name} ends in {self.postprocessing!r} post-processing, which "
                            f"comp.fusion cannot re-apply; the plugin's own `predict` has to")
        processing = {"postprocessing": self.postprocessing, "params": self.details if self.postprocessing else {}}
        if self.kind == "model":
            return FittedFusion(kind="model", members=tuple(self.members), **processing)
        recorded = self.scores["fusion"][self.base]
        source = next(key for key in FUSED_FROM if key in recorded)
        weights = recorded[source] if isinstance(recorded[source], dict) else {}
        return FittedFusion(kind=FUSION_KINDS[source], members=tuple(self.members), weights=weights,
                            intercept=recorded.get("intercept", 0.0), task=recorded.get("task", "binary"),
                            classes=tuple(recorded.get("classes", ())), **processing)


def read_final(run: Run) -> FinalCandidate:
    """The final candidate recorded in the run's scores.json; a one-line error when training did not finish."""
    scores = run.read_json("scores.json", default={})
    if "final" not in scores:
        raise CompError(f"{run.path} did not finish training (no final model in scores.json); "
                        f"continue it with `comp train --resume {run.path}`")
    final = scores["final"]
    name = final["name"]
    base, _, postprocessing = name.partition("+")
    fusion = scores.get("fusion", {})
    recorded = fusion.get(base, {})
    source = next((key for key in FUSED_FROM if key in recorded), None)
    if base in scores.get("models", {}) or source is None:
        kind, members = "model", [base]
    else:
        kind, members = base, list(recorded[source])
    return FinalCandidate(name=name, score=float(final["score"]), base=base, kind=kind, members=members,
                          postprocessing=postprocessing or None, details=fusion.get(name, final), scores=scores)
