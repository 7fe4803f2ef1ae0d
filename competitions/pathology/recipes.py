"""The pathology models by name and how a run's final candidate maps to one network and its threshold.

Training and ``comp predict`` both build their specs with ``segmentation_spec``, so a saved fold network sees the
same geometry.
"""

from __future__ import annotations

from comp import Recipe
from comp.fusion import FinalCandidate
from competitions.pathology.slides import Geometry, Slides
from competitions.pathology.spec import SegmentationSpec

SEED_REFERENCE = "seed recipe: FCN-8s on the whole image shrunk to 256x256"
NO_THRESHOLD = 0.5  # a plain model's masks mark probability >= 0.5


def pathology_recipes(config: dict) -> dict[str, Recipe]:
    """``unet``, ``fcn8s`` and ``unet_squeezenet`` (a U-Net on the registry encoder its table names; tiled, tuned;
    parameters from the config's tables of those names) and ``seed_fcn8s`` (the seed's whole-image reference)."""
    recipes = {}
    for name, network in (("unet", "unet"), ("fcn8s", "fcn8s"), ("unet_squeezenet", "unet_encoder"),
                          ("seed_fcn8s", "fcn8s")):
        params = dict(config.get(name, {}))  # config.toml's table under the user's keys (merged per key)
        if "epochs" in params and config.get("epochs"):
            params["epochs"] = int(config["epochs"])
        seed = name == "seed_fcn8s"
        recipes[name] = Recipe(params, tunable=not seed, reference=SEED_REFERENCE if seed else None, builds=network)
    return recipes


def segmentation_spec(name: str, recipe: Recipe, config: dict, train: Slides, test: Slides, *,
                      fold_seconds: float | None = None) -> SegmentationSpec:
    """Model ``name`` with the recipe's resolved parameters: whole images when they give a ``size``, else tiles at
    the config's ``scale``; ``fold_seconds`` limits each fold's training (--time-budget)."""
    whole = recipe.params.get("size")
    output_scale = float(config.get("scale", 0.5))
    geometry = Geometry(size=int(whole)) if whole else Geometry(scale=output_scale)
    return SegmentationSpec(name=name, network=recipe.builds, params=recipe.params, train=train, test=test,
                            config=config, geometry=geometry, output_scale=output_scale, tunable=recipe.tunable,
                            reference=recipe.reference, fold_seconds=fold_seconds)


def final_network(final: FinalCandidate) -> tuple[str, float]:
    """(the first network model behind the run's final candidate, the threshold its probabilities are marked at:
    the ``+threshold`` or the fitted chain's, else 0.5)."""
    chain = final.details.get("chain") or {}
    return final.members[0], float(final.details.get("threshold", chain.get("threshold", NO_THRESHOLD)))
