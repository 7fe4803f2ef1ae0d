"""Test-time views of an image batch, shared by feature extraction, fine-tuned networks and exported pipelines so all
three see the same pixels: the whole image or a crop of it enlarged back to the input size (multi-crop, and a
second scale: the crops are the image seen 1.25x closer), each as is or mirrored left to right."""

from __future__ import annotations

from comp._lazy import lazy_import
from comp.errors import CompError

keras = lazy_import("keras")

CROP_FRACTION = 0.8  # of each side a crop keeps
# name -> (where the crop sits: None for the whole image, else (row, column) anchors in {0: start, 0.5: centre,
# 1: end}), mirrored left to right
VIEWS = {
    "orig": (None, False),
    "flip": (None, True),
    "crop": ((0.5, 0.5), False),
    "crop_flip": ((0.5, 0.5), True),
    "crop_top_left": ((0.0, 0.0), False),
    "crop_top_right": ((0.0, 1.0), False),
    "crop_bottom_left": ((1.0, 0.0), False),
    "crop_bottom_right": ((1.0, 1.0), False),
}


def crop_side(side: int) -> int:
    """The pixels a crop keeps of ``side`` (an even margin, as ``tf.image.central_crop`` leaves)."""
    return side - 2 * int((side - side * CROP_FRACTION) / 2)


def check_views(views, where: str) -> tuple[str, ...]:
    """``views`` as a tuple when each is known; a one-line CompError naming ``where`` and the known views otherwise."""
    views = tuple(views)
    unknown = [view for view in views if view not in VIEWS]
    if not views or unknown:
        raise CompError(f"{where}: views {list(views)} must name some of {', '.join(VIEWS)}")
    return views


def view_of(images, view: str):
    """A batch of images (b, height, width, C), static height and width, seen in ``view``: same shape and dtype
    float32. Keras ops, so the same arithmetic runs in tf.data, in a compiled step and inside an exported model."""
    if view not in VIEWS:
        raise ValueError(f"unknown test-time view {view!r}; known: {', '.join(VIEWS)}")
    anchors, mirrored = VIEWS[view]
    ops = keras.ops
    images = ops.cast(images, "float32")
    if anchors is not None:
        height, width = int(images.shape[1]), int(images.shape[2])
        crop_height, crop_width = crop_side(height), crop_side(width)
        top = int(anchors[0] * (height - crop_height))  # the margins are even, so the centre is a whole pixel
        left = int(anchors[1] * (width - crop_width))
        cropped = images[:, top:top + crop_height, left:left + crop_width, :]
        images = ops.image.resize(cropped, (height, width), interpolation="bilinear")
    return ops.flip(images, axis=2) if mirrored else images
