"""Any standard image-classification competition, no code: ``comp train images --data DIR``."""

from competitions.images.plugin import ImagesCompetition

__all__ = ["ImagesCompetition"]
