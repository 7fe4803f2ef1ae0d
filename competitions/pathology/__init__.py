"""H&E pathology slides: pathologists' SVG outlines become pixel masks; FCN-8s and U-Net segment, scored by pixel F1."""

from competitions.pathology.plugin import PathologyCompetition

__all__ = ["PathologyCompetition"]
