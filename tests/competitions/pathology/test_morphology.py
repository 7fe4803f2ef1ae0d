"""The mask clean-up steps on hand-made masks: holes, small objects, opening/closing and the watershed split."""

import numpy as np
import pytest

from competitions.pathology.morphology import (
    closed,
    filled_holes,
    opened,
    separated,
    split_touching,
    watershed_split,
    without_small_objects,
)
from competitions.pathology.objects import object_labels


def discs(shape, radius, *centres) -> np.ndarray:
    """Boolean mask of ``shape`` with discs of ``radius`` around the (row, column) centres."""
    rows, columns = np.mgrid[:shape[0], :shape[1]]
    return np.any([(rows - row) ** 2 + (columns - column) ** 2 <= radius ** 2 for row, column in centres], axis=0)


def test_the_watershed_splits_two_touching_discs_into_two_objects():
    touching = discs((40, 60), 10, (20, 18), (20, 34))  # centres 16 apart, radius 10: one blob with a waist
    assert object_labels(touching)[1] == 1
    labels = split_touching(touching, min_distance=5)
    assert set(np.unique(labels)) == {0, 1, 2}
    assert ((labels > 0) == touching).all()  # every pixel kept, none added
    # each half goes to the part seeded in its own disc
    assert labels[20, 12] != labels[20, 40] and labels[20, 12] == labels[10, 18] and labels[20, 40] == labels[30, 34]
    split = watershed_split(touching, min_distance=5)
    assert object_labels(split)[1] == 2
    cleared_columns = np.nonzero(touching & ~split)[1]
    assert len(cleared_columns) < 20 and set(cleared_columns) <= {25, 26, 27}  # one line, at the waist (column 26)


def test_the_watershed_leaves_a_single_disc_and_min_distance_zero_alone():
    single = discs((40, 40), 12, (20, 20))
    assert object_labels(watershed_split(single, min_distance=5))[1] == 1
    touching = discs((40, 60), 10, (20, 18), (20, 34))
    assert (watershed_split(touching, min_distance=0) == touching).all()


def test_separated_labels_never_touch_even_diagonally():
    labels = np.zeros((6, 9), dtype=np.int32)
    labels[0:3, 0:3], labels[0:3, 3:6], labels[3:6, 6:9] = 1, 2, 3  # 1 and 2 side by side, 3 corner to corner with 2
    mask = separated(labels)
    assert object_labels(np.where(mask, labels, 0))[1] == 3
    assert object_labels(mask)[1] == 3  # the boolean mask alone keeps them apart


def test_hole_filling_on_a_hand_made_mask():
    ring = np.zeros((7, 7), dtype=bool)
    ring[1:6, 1:6] = True
    ring[2:5, 2:5] = False  # a 3x3 lumen inside
    cup = np.zeros((7, 7), dtype=bool)
    cup[1:6, 1:6] = True
    cup[0:4, 3] = False  # a notch open to the image edge is not a hole
    cup[0, 3] = False
    assert filled_holes(ring).sum() == 25
    assert (filled_holes(ring, fill=False) == ring).all()
    assert (filled_holes(cup) == cup).all()


def test_size_filtering_on_a_hand_made_mask():
    mask = np.zeros((8, 8), dtype=bool)
    mask[0, 0] = True  # 1 pixel
    mask[3, 3] = mask[4, 4] = True  # 2 pixels, diagonal neighbours: one object
    mask[6:8, 5:8] = True  # 6 pixels
    assert without_small_objects(mask, 2).sum() == 8
    assert without_small_objects(mask, 3).sum() == 6
    assert (without_small_objects(mask, 0) == mask).all()
    with pytest.raises(ValueError, match="min_size"):
        without_small_objects(mask, -1)


def test_opening_cuts_a_thin_bridge_and_closing_fills_a_thin_gap():
    bridged = np.zeros((12, 20), dtype=bool)
    bridged[2:10, 1:8] = bridged[2:10, 12:19] = True
    gapped = bridged.copy()
    bridged[5, 8:12] = True  # a one-pixel bridge
    gapped[2:10, 8:12] = True
    gapped[2:10, 9] = False  # a one-pixel slit
    assert object_labels(bridged)[1] == 1 and object_labels(opened(bridged, 1))[1] == 2
    assert object_labels(gapped)[1] == 2 and object_labels(closed(gapped, 1))[1] == 1
    edge = np.zeros((10, 10), dtype=bool)
    edge[:, :5] = True  # touching the image edge: opening and closing keep it as it is
    assert (opened(edge, 2) == edge).all() and (closed(edge, 2) == edge).all()
