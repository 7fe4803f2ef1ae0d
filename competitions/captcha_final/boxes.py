"""Axis-aligned pixel boxes: where characters, formula lines and crops are in an image."""

from __future__ import annotations

Box = tuple[int, int, int, int]  # left, top, right, bottom in image pixels; right and bottom exclusive


def union(boxes) -> Box:
    """The smallest Box holding every box of ``boxes``."""
    boxes = list(boxes)
    if not boxes:
        raise ValueError("the union of no boxes is undefined")
    return (min(box[0] for box in boxes), min(box[1] for box in boxes),
            max(box[2] for box in boxes), max(box[3] for box in boxes))


def contains(outer: Box, inner: Box) -> bool:
    """Whether box ``inner`` lies wholly inside box ``outer``."""
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def vertical_overlap(upper: Box, lower: Box) -> float:
    """The rows two boxes share, as a fraction of the shorter one's height (0 when they share none)."""
    shared = min(upper[3], lower[3]) - max(upper[1], lower[1])
    shorter = min(upper[3] - upper[1], lower[3] - lower[1])
    return max(0, shared) / shorter if shorter > 0 else 0.0
