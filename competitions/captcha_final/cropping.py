"""The seed's OpenCV crop of the formula lines, and the strip the network reads.

A large image holds 2-3 short lines of text in one small region. ``find_lines`` turns it grey, equalises its
histogram (faint text turns dark, the wide background light), median-blurs away specks and thin interference lines,
joins each line's characters into one blob with a wide morphological opening on a quarter-size copy, takes the
blobs' bounding rectangles, and refines each with a margin on the full-size image. ``line_strip`` puts the crops
side by side, top line first, scaled to fill a fixed (80, 900) strip: 72,000 pixels instead of 600x270 for the
region.

Where the seed's recipe needed help on varied images:
- before equalising, every pixel within ``background_tolerance`` of the local background (a coarse median) is set
  to pure white: equalisation maps each grey level to its rank, so it turns text dark only when the background is
  one flat level, as in the official images; a gradient or grain would be spread over the whole grey range;
- blobs too tall for their width or too sparse (steep interference lines, arcs) are dropped, and pieces of one line
  (a fraction's denominator at its end) are merged;
- the fine crop takes whole connected pieces of unblurred ink near the blob, so thin strokes and the fraction's bar
  that the blur erased are kept; of a piece that runs out of the search window (an interference line and the glyphs
  it crosses) only the ink near the blob counts. Taking such pieces whole had made the crops loose: the lines' ink
  boxes filled a median 0.595 of the crops' area and a 5th percentile of 0.278 (200 images, seed 0; a loose crop
  shrinks the text in the strip), against 0.607 and 0.460 now, with 199 of 200 crops whole (200 before).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import cv2
import numpy as np

from competitions.captcha_final.boxes import Box, union, vertical_overlap

STRIP_HEIGHT, STRIP_WIDTH = 80, 900
STRIP_GAP = 2  # pixels of fill between two lines in the strip
LARGEST_LINE_COUNT = 3


class NoTextRegion(ValueError):
    """No formula line was found in an image: it is reported by name and counted as wrong, never a crash."""


@dataclass(frozen=True)
class CropSettings:
    """The crop's parameters (pixels of the full image unless said otherwise)."""

    background_scale: int = 16  # the local background is a median over a copy this many times smaller,
    background_kernel: int = 7  # in a window this wide there (112 full-size pixels: wider than a text line)
    background_tolerance: int = 20  # grey levels a pixel may lie below its background and still be background
    median_kernel: int = 5  # removes specks and 1-2 pixel lines, keeps strokes of small fonts
    downscale: int = 4  # the joining runs on a copy this many times smaller
    joining_kernel: tuple[int, int] = (5, 30)  # rows, columns of the quarter-size opening: wide, not tall
    cleaning_kernel: tuple[int, int] = (3, 3)  # closing after the opening removes small dark fragments
    threshold: int = 200  # a pixel darker than this belongs to a line (the flattened background is 255)
    smallest_blob: tuple[int, int] = (3, 6)  # rows, columns at quarter size; smaller blobs are noise
    least_aspect: float = 1.5  # width / height of a line's blob: a taller one is a steep interference line or arc
    least_density: float = 0.035  # share of dark blurred pixels in a line's blob; an interference line has less
    smallest_piece: int = 12  # pixels: a piece of ink beside a blob (not touching it) counts from this size on
    coarse_margin: int = 30  # the fine crop looks this far sideways from a blob's rectangle,
    side_reach: float = 1.5  # or this many blob heights if more (small glyphs the blur erased),
    vertical_reach: float = 0.5  # and this many blob heights up and down (a fraction's numerator and denominator),
    cut_piece_slack: tuple[float, float] = (0.25, 1.0)  # a piece the search window cuts (an interference line and
    # the glyphs it crosses) counts only inside the blob widened by these many blob heights (rows, columns)
    growth_rounds: int = 3  # searching again from what it found, at most this many times
    fine_margin: int = 7  # and the fine crop by this much


CROP_SETTINGS = CropSettings()


def flattened(grey: np.ndarray, settings: CropSettings = CROP_SETTINGS) -> np.ndarray:
    """(height, width) uint8: ``grey`` with every pixel near its local background set to 255, darker ones kept."""
    height, width = grey.shape
    small = cv2.resize(grey, (max(1, width // settings.background_scale), max(1, height // settings.background_scale)),
                       interpolation=cv2.INTER_AREA)
    background = cv2.resize(cv2.medianBlur(small, settings.background_kernel), (width, height),
                            interpolation=cv2.INTER_LINEAR)
    darkness = background.astype(np.int16) - grey.astype(np.int16) - settings.background_tolerance
    return (255 - np.clip(darkness, 0, 255)).astype(np.uint8)


def equalised(image: np.ndarray, settings: CropSettings = CROP_SETTINGS) -> np.ndarray:
    """(height, width) uint8: ``image`` (RGB or grey) made grey, flattened and histogram-equalised: text is dark."""
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY) if image.ndim == 3 else np.ascontiguousarray(image)
    return cv2.equalizeHist(flattened(grey, settings))


def same_line(first: Box, second: Box, reach: int) -> bool:
    """Whether two blobs are pieces of one line: sharing over half their rows, or touching (the fraction's
    denominator below the line's end) with their columns within ``reach`` of each other."""
    columns_near = first[0] - reach <= second[2] and second[0] - reach <= first[2]
    touching = max(first[1], second[1]) <= min(first[3], second[3])
    return vertical_overlap(first, second) > 0.5 or (touching and columns_near)


def merged_pieces(boxes: list[Box], reach: int) -> list[Box]:
    """``boxes`` with the pieces of one line merged, top to bottom."""
    merged: list[Box] = []
    for box in sorted(boxes, key=lambda box: box[1]):
        if merged and same_line(merged[-1], box, reach):
            merged[-1] = union([merged[-1], box])
        else:
            merged.append(box)
    return merged


def line_blobs(blurred: np.ndarray, settings: CropSettings = CROP_SETTINGS) -> list[Box]:
    """Rectangles (full-size pixels) of the joined line blobs, top to bottom, at most three (the largest)."""
    height, width = blurred.shape
    small = cv2.resize(blurred, (max(1, width // settings.downscale), max(1, height // settings.downscale)),
                       interpolation=cv2.INTER_AREA)
    joined = cv2.morphologyEx(small, cv2.MORPH_OPEN, np.ones(settings.joining_kernel, np.uint8))
    cleaned = cv2.morphologyEx(joined, cv2.MORPH_CLOSE, np.ones(settings.cleaning_kernel, np.uint8))
    _, mask = cv2.threshold(cleaned, settings.threshold, 255, cv2.THRESH_BINARY_INV)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    scale = settings.downscale
    boxes = merged_pieces([(x * scale, y * scale, min(width, (x + w) * scale), min(height, (y + h) * scale))
                           for x, y, w, h in map(cv2.boundingRect, contours)
                           if h >= settings.smallest_blob[0] and w >= settings.smallest_blob[1]],
                          reach=settings.joining_kernel[1] * scale)
    dark = blurred < settings.threshold
    boxes = [box for box in boxes if box[2] - box[0] >= settings.least_aspect * (box[3] - box[1])
             and dark[box[1]:box[3], box[0]:box[2]].mean() >= settings.least_density]
    largest = sorted(boxes, key=lambda box: (box[2] - box[0]) * (box[3] - box[1]))[-LARGEST_LINE_COUNT:]
    return sorted(largest, key=lambda box: box[1])


def ink_near(sharp: np.ndarray, box: Box, reach: tuple[int, int], limits: tuple[int, int], settings: CropSettings,
             whole_pieces_only: bool) -> Box | None:
    """The box of the ink near ``box`` in the unblurred equalised image, or None when there is none.

    The search window is ``box`` widened by ``reach`` (columns, rows). Whole connected pieces of ink count when they
    touch ``box``, or share its rows and are bigger than a speck: a thin stroke, a '(' or the fraction's bar that
    the median blur erased are kept. A piece the window's edges cut is an interference line running on, with any
    glyph it crosses: only its ink inside ``box`` widened by ``cut_piece_slack`` counts, and with
    ``whole_pieces_only`` none of it.
    """
    width = sharp.shape[1]
    left, top = max(0, box[0] - reach[0]), max(limits[0], box[1] - reach[1])
    right, bottom = min(width, box[2] + reach[0]), min(limits[1], box[3] + reach[1])
    if bottom <= top or right <= left:
        return None
    _, ink = cv2.threshold(sharp[top:bottom, left:right], settings.threshold, 255, cv2.THRESH_BINARY_INV)
    ink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))  # rejoin a faint stroke's fragments
    _, labels, statistics, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    inner = (box[0] - left, box[1] - top, box[2] - left, box[3] - top)
    slack = tuple(round(share * (box[3] - box[1])) for share in settings.cut_piece_slack)
    pieces = []
    for label, (x, y, w, h, area) in enumerate(statistics[1:], start=1):
        if not (y < inner[3] and inner[1] < y + h
                and ((x < inner[2] and inner[0] < x + w) or area >= settings.smallest_piece)):
            continue
        if x == 0 or y == 0 or x + w == right - left or y + h == bottom - top:  # cut by the window
            if whole_pieces_only:
                continue
            x, y, w, h = ink_extent(labels, label, inner, slack)
            if w == 0:
                continue
        pieces.append((left + x, top + y, left + x + w, top + y + h))
    return tuple(int(value) for value in union(pieces)) if pieces else None


def ink_extent(labels: np.ndarray, label: int, box: Box, slack: tuple[int, int]) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the pixels labelled ``label`` in ``labels`` (a connected-components image) inside
    ``box`` widened by ``slack`` (rows, columns) on each side; zeros when there are none."""
    left, top = max(0, box[0] - slack[1]), max(0, box[1] - slack[0])
    window = labels[top:box[3] + slack[0], left:box[2] + slack[1]] == label
    rows, columns = np.flatnonzero(window.any(axis=1)), np.flatnonzero(window.any(axis=0))
    if not len(rows):
        return 0, 0, 0, 0
    return (int(left + columns[0]), int(top + rows[0]), int(columns[-1] - columns[0] + 1),
            int(rows[-1] - rows[0] + 1))


def refined(sharp: np.ndarray, box: Box, limits: tuple[int, int], settings: CropSettings) -> Box:
    """The fine crop of one blob: the ink near it, searched again from what was found, plus the fine margin.

    A search reaches ``side_reach`` blob heights sideways and ``vertical_reach`` up and down; later rounds follow
    a run of small glyphs the blur erased (a fraction at the line's end) but only take pieces wholly in their
    window, so an interference line through the text widens the crop by one reach at most. ``limits`` are the rows
    (top, bottom) the search may not leave, halfway to the neighbouring blobs.
    """
    blob_height = box[3] - box[1]
    reach = (max(settings.coarse_margin, round(settings.side_reach * blob_height)),
             round(settings.vertical_reach * blob_height))
    found = box
    for round_index in range(settings.growth_rounds):
        grown = ink_near(sharp, found, reach, limits, settings, whole_pieces_only=round_index > 0)
        if grown is None or grown == found:
            break
        found = grown if round_index == 0 else union([found, grown])
    margin = settings.fine_margin
    return (max(0, found[0] - margin), max(limits[0], found[1] - margin),
            min(sharp.shape[1], found[2] + margin), min(limits[1], found[3] + margin))


def find_lines(image: np.ndarray, settings: CropSettings = CROP_SETTINGS) -> list[Box]:
    """The boxes of the formula lines of ``image`` ((h, w, 3) RGB or (h, w) grey uint8), top to bottom.

    NoTextRegion when no line is found.
    """
    if image.ndim not in (2, 3) or image.dtype != np.uint8 or min(image.shape[:2]) < settings.downscale:
        raise ValueError(f"find_lines needs an (h, w) or (h, w, 3) uint8 image, got {image.dtype} {image.shape}")
    sharp = equalised(image, settings)
    blobs = line_blobs(cv2.medianBlur(sharp, settings.median_kernel), settings)
    if not blobs:
        raise NoTextRegion(f"no text region found in the {image.shape[1]}x{image.shape[0]} image")
    boundaries = [0] + [(upper[3] + lower[1]) // 2 for upper, lower in itertools.pairwise(blobs)] + [sharp.shape[0]]
    return [refined(sharp, box, (boundaries[index], boundaries[index + 1]), settings)
            for index, box in enumerate(blobs)]


def line_strip(image: np.ndarray, boxes: list[Box], height: int = STRIP_HEIGHT, width: int = STRIP_WIDTH) -> np.ndarray:
    """(height, width[, channels]) uint8: the crops of ``boxes`` left to right, vertically centred, on black, all
    scaled alike until the row fills the strip's height or width."""
    if not boxes:
        raise NoTextRegion("no line boxes to put in a strip")
    return crops_strip([image[top:bottom, left:right] for left, top, right, bottom in boxes], height, width)


def crops_strip(crops: list[np.ndarray], height: int = STRIP_HEIGHT, width: int = STRIP_WIDTH) -> np.ndarray:
    """(height, width[, channels]) uint8: line crops (each (rows, columns[, channels])) left to right, vertically
    centred, on black; all scaled alike until the row of them fills the strip's height or width.

    Filling, not keeping the picture's scale: at their own scale the rows of 40 generated captchas filled a median
    0.66 of the strip's width, which left the network's 112 time steps (8 strip columns each) a median 1.95 steps
    per label character and as few as 0.94, fewer than CTC needs (a repeated character takes a blank between); a
    32-minute fit's OOF errors were mostly dropped digits. Filled, a 46-character text gets 2.4 steps per character.
    """
    if not crops:
        raise NoTextRegion("no line crops to put in a strip")
    channels = crops[0].shape[2:]
    row_width = sum(crop.shape[1] for crop in crops) + STRIP_GAP * (len(crops) - 1)
    row_height = max(crop.shape[0] for crop in crops)
    scale = min(height / row_height, width / row_width)
    strip = np.zeros((height, width) + channels, dtype=np.uint8)
    x = 0
    for crop in crops:
        if scale != 1.0:
            size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
            interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            crop = cv2.resize(crop, size, interpolation=interpolation).reshape(size[::-1] + channels)
        crop = crop[:, :width - x]
        top = (height - crop.shape[0]) // 2
        strip[top:top + crop.shape[0], x:x + crop.shape[1]] = crop
        x += crop.shape[1] + round(STRIP_GAP * scale)
        if x >= width:
            break
    return strip
