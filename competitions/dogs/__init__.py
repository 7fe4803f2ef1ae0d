"""Dogs vs. Cats Redux (Kaggle): P(dog) per test image, scored by log loss."""

from competitions.dogs.plugin import DogsCompetition

__all__ = ["DogsCompetition"]
