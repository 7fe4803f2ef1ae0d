"""The seed's reference recipes, which every dogs report compares with the final model."""

from __future__ import annotations

# The seed's Keras head: dropout 0.5 -> dense sigmoid, Adam 1e-3, 10 epochs, batch 128, no early stopping.
SEED_RECIPE = {"dropout": 0.5, "hidden_units": 0, "l2": 0.0, "learning_rate": 1e-3, "epochs": 10, "batch_size": 128}
SEED_CLIP_MARGIN = 0.005  # the seed clipped every submission into [0.005, 0.995]; reported beside the searched clip
SEED_REFERENCE = "(a) seed recipe: dropout 0.5 + dense sigmoid, Adam, 10 epochs, batch 128, clip {low}/{high}"
LOGISTIC_REFERENCE = "(b) plain logistic regression, C=1, standardised features"
