"""Generated final-round captchas: 2-3 formula lines stacked in one region of a large noisy image, known boxes.

Each image draws its own look from a Variation: size, CJK and Latin faces, font size, spacing, per-character
rotation (a '+' may turn into an 'x'), colours of text, background, noise dots, interference lines and arcs. The
fraction is stacked: its numerator variable over a bar over its denominator, smaller than the rest of the line.
Besides the picture, the renderer returns every label character's ink box, so crops can be checked exactly.
"""

from __future__ import annotations

import dataclasses
import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from competitions.captcha_final.boxes import Box, union
from competitions.captcha_final.fonts import Face, cjk_faces, latin_faces, load_font
from competitions.captcha_final.formulas import VARIABLES, parse_formulas

INK_THRESHOLD = 64  # a glyph pixel with at least this coverage (of 255) is ink: the box a crop must hold
INK_TABLE = [255 if value >= INK_THRESHOLD else 0 for value in range(256)]  # Image.point's lookup table for ink
IMAGE_MARGIN = 12  # pixels kept free between the text region and the image's edge
SMALLEST_FONT = 12


@dataclass(frozen=True)
class Variation:
    """The ranges each rendered captcha's look is drawn from (sizes in pixels, lengths relative to font size)."""

    heights: tuple[int, ...] = (400, 500, 600, 700, 800, 900, 1000)
    widths: tuple[int, ...] = (800, 1600, 2400, 3200, 4000)
    font_sizes: tuple[int, int] = (22, 40)
    latin_face_probability: float = 0.5  # digits and operators from a Latin face rather than the CJK one
    fraction_scales: tuple[float, float] = (0.6, 0.85)  # numerator and denominator size / line font size
    spacings: tuple[float, float] = (-0.05, 0.2)
    line_gaps: tuple[float, float] = (1.5, 3.5)
    indents: tuple[float, float] = (0.0, 1.0)
    largest_rotation: float = 20.0  # degrees either way; each image draws its own limit below this
    largest_plus_rotation: float = 45.0  # a '+' turned 45 degrees reads as 'x' and is still '+'
    vertical_jitter: float = 0.06
    text_contrast: int = 70  # least luminance step between background and text
    noise_dots_per_megapixel: tuple[int, int] = (200, 2000)
    interference_lines: tuple[int, int] = (2, 8)
    interference_arcs: tuple[int, int] = (0, 3)
    pixel_noise: tuple[float, float] = (0.0, 8.0)  # standard deviation of Gaussian grey noise
    cjk_faces: tuple[int, ...] = (0, 1, 2, 3)  # which of fonts.cjk_faces() draw the variables
    paper_levels: tuple[int, int] = (190, 255)  # each RGB channel of the background colour
    gradient: float = 20.0  # grey levels the background may brighten or darken across the image, either way
    text_colour: tuple[int, int, int] | None = None  # one ink for every glyph; None: drawn per image (colour_source)


VARIATION = Variation()
# The training stream draws on the smaller canvases (3x faster to render): the crop cuts the text region out anyway.
STREAM_VARIATION = dataclasses.replace(VARIATION, heights=(400, 500, 600), widths=(800, 1600))
# The narrow stream (config ``variation = "narrow"``): one CJK face for every character, one font size, spacing,
# fraction size, line gap and indent, black ink on white paper; rotation, specks, interference and grain as in full.
NARROW_STREAM_VARIATION = dataclasses.replace(
    STREAM_VARIATION, cjk_faces=(0,), latin_face_probability=0.0, font_sizes=(30, 30), fraction_scales=(0.75, 0.75),
    spacings=(0.05, 0.05), line_gaps=(2.5, 2.5), indents=(0.5, 0.5), paper_levels=(255, 255), gradient=0.0,
    text_colour=(0, 0, 0))
STREAM_VARIATIONS = {"full": STREAM_VARIATION, "narrow": NARROW_STREAM_VARIATION}


def stream_variation(level: str) -> Variation:
    """The training stream's Variation for the config's ``variation`` (``full`` or ``narrow``)."""
    if level not in STREAM_VARIATIONS:
        raise ValueError(f"variation = {level!r} is not a stream variation; use one of "
                         f"{', '.join(map(repr, STREAM_VARIATIONS))}")
    return STREAM_VARIATIONS[level]


@dataclass(frozen=True)
class RenderedCaptcha:
    """A generated captcha and where its text is.

    ``image`` is (height, width, 3) uint8 RGB. ``character_boxes[i]`` holds one ink Box per character of formula
    line ``i`` (top to bottom, the order of the label), the fraction's bar standing for its '/'.
    """

    image: np.ndarray
    formulas: str
    character_boxes: tuple[tuple[Box, ...], ...]

    @property
    def line_boxes(self) -> tuple[Box, ...]:
        """The union of each formula line's character boxes, top to bottom."""
        return tuple(union(boxes) for boxes in self.character_boxes)

    @property
    def region(self) -> Box:
        """The box of all text: the one region of the image that holds any."""
        return union(self.line_boxes)


@dataclass(frozen=True)
class Style:
    """One captcha's drawn look."""

    cjk_font: Face
    latin_font: Face
    font_size: int
    fraction_scale: float
    spacing: float
    rotation: float
    vertical_jitter: float
    line_gaps: tuple[float, float]
    indents: tuple[float, float, float]


@dataclass
class Placed:
    """A glyph's coverage mask (rotated) at its top-left corner in region coordinates, and its colour."""

    mask: Image.Image | None  # None: a filled bar (the fraction's), its size given by ``size``
    left: float
    top: float
    size: tuple[int, int]
    ink: Box  # ink box inside the mask
    colour: tuple[int, int, int]

    def box(self, dx: int, dy: int) -> Box:
        """The ink box once the line is drawn with its origin at (dx, dy) of the image."""
        left, top = round(self.left) + dx, round(self.top) + dy
        return left + self.ink[0], top + self.ink[1], left + self.ink[2], top + self.ink[3]

    @property
    def ink_left(self) -> float:
        return self.left + self.ink[0]

    @property
    def ink_right(self) -> float:
        return self.left + self.ink[2]

    def move(self, dx: float, dy: float) -> None:
        self.left += dx
        self.top += dy


def draw_style(rng: random.Random, variation: Variation) -> Style:
    """A random Style from ``variation``."""
    faces = cjk_faces()
    cjk_font = rng.choice([faces[index] for index in variation.cjk_faces])
    latin_font = rng.choice(latin_faces()) if rng.random() < variation.latin_face_probability else cjk_font
    return Style(
        cjk_font=cjk_font, latin_font=latin_font, font_size=rng.randint(*variation.font_sizes),
        fraction_scale=rng.uniform(*variation.fraction_scales), spacing=rng.uniform(*variation.spacings),
        rotation=rng.uniform(0.0, variation.largest_rotation), vertical_jitter=variation.vertical_jitter,
        line_gaps=(rng.uniform(*variation.line_gaps), rng.uniform(*variation.line_gaps)),
        indents=tuple(rng.uniform(*variation.indents) for _ in range(3)))


def glyph_mask(character: str, font: ImageFont.FreeTypeFont, angle: float) -> tuple[Image.Image, Box, float]:
    """(mask rotated by ``angle`` degrees, its ink box, the mask centre's height above the baseline).

    The character is drawn on its baseline in a tile as tall as the font, so '-' and '=' keep their height in the
    line; the tile is rotated about its centre.
    """
    ascent, descent = font.getmetrics()
    left, _, right, _ = font.getbbox(character, anchor="ls")
    pad = 2
    tile = Image.new("L", (max(1, right - left) + 2 * pad, ascent + descent + 2 * pad))
    ImageDraw.Draw(tile).text((pad - left, pad + ascent), character, font=font, fill=255, anchor="ls")
    centre_above_baseline = ascent + pad - tile.height / 2
    rotated = tile.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    ink = rotated.point(INK_TABLE).getbbox()
    return rotated, ink or (0, 0, 1, 1), centre_above_baseline


class LineLayout:
    """Lays one formula line out from left to right around its axis (y = 0), where a fraction's bar goes."""

    def __init__(self, style: Style, rng: random.Random, variation: Variation, colour_of):
        self.style, self.rng, self.variation, self.colour_of = style, rng, variation, colour_of
        self.x = 0.0
        self.placed: list[Placed] = []

    def font_for(self, character: str, size: int) -> ImageFont.FreeTypeFont:
        face = self.style.cjk_font if character in VARIABLES else self.style.latin_font
        return load_font(face, max(SMALLEST_FONT, size))

    def angle_for(self, character: str) -> float:
        limit = self.variation.largest_plus_rotation if character == "+" else self.style.rotation
        return self.rng.uniform(-limit, limit)

    def glyph(self, character: str, size: int, x: float, baseline: float) -> Placed:
        """The glyph of ``character`` with its ink's left edge at ``x`` and its baseline at ``baseline``."""
        font = self.font_for(character, size)
        mask, ink, centre_above_baseline = glyph_mask(character, font, self.angle_for(character))
        jitter = self.rng.uniform(-1, 1) * self.style.vertical_jitter * size
        centre_y = baseline - centre_above_baseline + jitter
        return Placed(mask, x - ink[0], centre_y - mask.height / 2, mask.size, ink, self.colour_of())

    def advance(self, placed: Placed) -> None:
        self.placed.append(placed)
        self.x = placed.ink_right + self.style.spacing * self.style.font_size

    def baseline(self, size: int) -> float:
        """The baseline that centres digits of ``size`` on the axis."""
        _, top, _, bottom = self.font_for("0", size).getbbox("0", anchor="ls")
        return -(top + bottom) / 2

    def add_text(self, text: str) -> None:
        for character in text:
            self.advance(self.glyph(character, self.style.font_size, self.x, self.baseline(self.style.font_size)))

    def add_fraction(self, numerator: str, denominator: str) -> None:
        """The stacked fraction: numerator over a bar over the denominator, the bar on the axis."""
        size = round(self.style.font_size * self.style.fraction_scale)
        thickness = self.rng.randint(1, 3)
        gap = self.rng.uniform(0.1, 0.3) * size
        top = self.glyph(numerator, size, 0.0, 0.0)
        bottom: list[Placed] = []
        for character in denominator:
            bottom.append(self.glyph(character, size, bottom[-1].ink_right + 0.05 * size if bottom else 0.0, 0.0))
        top_width, bottom_width = top.ink_right - top.ink_left, bottom[-1].ink_right - bottom[0].ink_left
        bar_width = math.ceil(max(top_width, bottom_width) * self.rng.uniform(1.0, 1.5) + self.rng.randint(2, 8))
        bar = Placed(None, self.x, -thickness / 2, (bar_width, thickness), (0, 0, bar_width, thickness),
                     self.colour_of())
        top.move(self.x + (bar_width - top_width) * self.rng.uniform(0.2, 0.8) - top.ink_left,
                 bar.top - gap - (top.top + top.ink[3]))
        bottom_shift = (self.x + (bar_width - bottom_width) / 2 - bottom[0].ink_left,
                        bar.top + thickness + gap - min(glyph.top + glyph.ink[1] for glyph in bottom))
        for glyph in bottom:
            glyph.move(*bottom_shift)
        self.placed += [top, bar, *bottom]  # the label's order: numerator, '/', denominator digits
        self.x += bar_width + self.style.spacing * self.style.font_size

    def extent(self) -> Box:
        """The line's ink box in its own coordinates (rounded outwards)."""
        return union(glyph.box(0, 0) for glyph in self.placed)


def lay_out_line(text: str, style: Style, rng: random.Random, variation: Variation, colour_of) -> LineLayout:
    """The placed glyphs of one formula line; a fraction ``V/123`` is stacked, its '/' drawn as the bar."""
    layout = LineLayout(style, rng, variation, colour_of)
    position = 0
    while position < len(text):
        character = text[position]
        if character in VARIABLES and position + 1 < len(text) and text[position + 1] == "/":
            end = position + 2
            while end < len(text) and text[end].isdigit():
                end += 1
            layout.add_fraction(character, text[position + 2:end])
            position = end
        else:
            layout.add_text(character)
            position += 1
    return layout


def luminance(colour) -> float:
    red, green, blue = colour
    return 0.299 * red + 0.587 * green + 0.114 * blue


def random_text_colour(rng: random.Random, background: tuple[int, int, int], contrast: int) -> tuple[int, int, int]:
    """A colour at least ``contrast`` darker (in luminance) than ``background``."""
    while True:
        colour = (rng.randint(0, 200), rng.randint(0, 200), rng.randint(0, 200))
        if luminance(colour) <= luminance(background) - contrast:
            return colour


def colour_source(rng: random.Random, background, contrast: int, fixed: tuple[int, int, int] | None = None):
    """A function giving each glyph its colour: ``fixed`` when given (nothing drawn), else one colour for all, one per
    call, or a base colour jittered."""
    if fixed is not None:
        return lambda: fixed
    base = random_text_colour(rng, background, contrast)
    mode = rng.choice(("single", "each", "jittered"))
    if mode == "single":
        return lambda: base
    if mode == "each":
        return lambda: random_text_colour(rng, background, contrast)

    def jittered():
        colour = tuple(min(255, max(0, channel + rng.randint(-30, 30))) for channel in base)
        return colour if luminance(colour) <= luminance(background) - contrast else base
    return jittered


def background(height: int, width: int, colour, rng: random.Random, noise: np.random.Generator,
               variation: Variation) -> np.ndarray:
    """(height, width, 3) uint8: a light colour with a gentle linear gradient and Gaussian grey noise."""
    gradient = rng.uniform(-variation.gradient, variation.gradient) * np.linspace(-0.5, 0.5, width, dtype=np.float32)
    row = np.asarray(colour, dtype=np.float32)[None, :] + gradient[:, None]  # (width, 3), the same on every row
    sigma = rng.uniform(*variation.pixel_noise)
    if sigma == 0:
        return np.broadcast_to(np.clip(row, 0, 255).astype(np.uint8), (height, width, 3)).copy()
    image = row + noise.normal(0.0, sigma, size=(height, width, 1)).astype(np.float32)
    return np.clip(image, 0, 255, out=image).astype(np.uint8)


def draw_interference(draw: ImageDraw.ImageDraw, size: tuple[int, int], region: Box, rng: random.Random,
                      variation: Variation) -> None:
    """Thin lines and arcs in random colours, some of them across the text region, as the official images have."""
    width, height = size
    for _ in range(rng.randint(*variation.interference_lines)):
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        if rng.random() < 0.5:  # near-horizontal, through or beside the text
            y = rng.uniform(region[1] - 40, region[3] + 40)
            x0, x1 = sorted((rng.uniform(0, width), rng.uniform(0, width)))
            points = [(x0, y), (x1, y + rng.uniform(-15, 15))]
        else:
            points = [(rng.uniform(0, width), rng.uniform(0, height)), (rng.uniform(0, width), rng.uniform(0, height))]
        draw.line(points, fill=colour, width=rng.randint(1, 2))
    for _ in range(rng.randint(*variation.interference_arcs)):
        colour = (rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        left, top = rng.uniform(0, width * 0.8), rng.uniform(0, height * 0.8)
        box = (left, top, left + rng.uniform(50, width * 0.5), top + rng.uniform(30, height * 0.5))
        start = rng.uniform(0, 360)
        draw.arc(box, start, start + rng.uniform(60, 200), fill=colour, width=rng.randint(1, 2))


def draw_noise_dots(image: np.ndarray, rng: random.Random, noise: np.random.Generator, variation: Variation) -> None:
    """Specks of 1-3 pixels in random colours, scattered over the whole image (in place)."""
    height, width = image.shape[:2]
    count = int(rng.uniform(*variation.noise_dots_per_megapixel) * height * width / 1e6)
    rows = noise.integers(0, height - 2, count)
    columns = noise.integers(0, width - 2, count)
    colours = noise.integers(0, 256, (count, 3), dtype=np.uint8)
    for size in (1, 2, 3):
        chosen = np.arange(count) % 3 == size - 1
        for dy in range(size):
            for dx in range(size):
                image[rows[chosen] + dy, columns[chosen] + dx] = colours[chosen]


def fitted_layouts(lines: list[str], style: Style, rng: random.Random, variation: Variation, colour_of,
                   room: tuple[int, int]) -> tuple[list[LineLayout], list[int], Style]:
    """The line layouts and each line's top in the region, at the largest font size (up to the drawn one) that fits.

    A big font on a small image is drawn again smaller until the stacked lines fit in ``room`` (width, height).
    """
    while True:
        layouts = [lay_out_line(text, style, rng, variation, colour_of) for text in lines]
        tops, y = [], 0
        for index, layout in enumerate(layouts):
            extent = layout.extent()
            tops.append(y - extent[1])
            y += extent[3] - extent[1]
            if index + 1 < len(layouts):
                y += round(style.line_gaps[index] * style.font_size)
        width = max(layout.extent()[2] - layout.extent()[0] + round(style.indents[index] * style.font_size)
                    for index, layout in enumerate(layouts))
        scale = min(room[0] / width, room[1] / y)
        if scale >= 1 or style.font_size <= SMALLEST_FONT:
            return layouts, tops, style
        style = Style(**{**style.__dict__, "font_size": max(SMALLEST_FONT, int(style.font_size * scale * 0.95))})


def render_captcha(formulas: str, rng: random.Random, variation: Variation = VARIATION) -> RenderedCaptcha:
    """The captcha of ``formulas`` (grammatical, see formulas.py) drawn with a look taken from ``rng``."""
    parse_formulas(formulas)
    noise = np.random.default_rng(rng.getrandbits(64))
    height, width = rng.choice(variation.heights), rng.choice(variation.widths)
    style = draw_style(rng, variation)
    paper = tuple(rng.randint(*variation.paper_levels) for _ in range(3))
    colour_of = colour_source(rng, paper, variation.text_contrast, variation.text_colour)
    lines = formulas.split(";")
    room = (width - 2 * IMAGE_MARGIN, height - 2 * IMAGE_MARGIN)
    layouts, tops, style = fitted_layouts(lines, style, rng, variation, colour_of, room)
    extents = [layout.extent() for layout in layouts]
    region_width = max(extent[2] - extent[0] + round(indent * style.font_size)
                       for extent, indent in zip(extents, style.indents))
    region_height = tops[-1] + extents[-1][3]
    region_left = IMAGE_MARGIN + rng.randint(0, max(0, room[0] - region_width))
    region_top = IMAGE_MARGIN + rng.randint(0, max(0, room[1] - region_height))
    picture = Image.fromarray(background(height, width, paper, rng, noise, variation))
    draw = ImageDraw.Draw(picture)
    boxes = []
    for layout, extent, top, indent in zip(layouts, extents, tops, style.indents):
        dx = region_left + round(indent * style.font_size) - extent[0]
        dy = region_top + top
        line_boxes = []
        for glyph in layout.placed:
            left, upper = round(glyph.left) + dx, round(glyph.top) + dy
            if glyph.mask is None:
                draw.rectangle((left, upper, left + glyph.size[0] - 1, upper + glyph.size[1] - 1), fill=glyph.colour)
            else:
                picture.paste(glyph.colour, (left, upper), glyph.mask)
            line_boxes.append(glyph.box(dx, dy))
        boxes.append(tuple(line_boxes))
    draw_interference(draw, (width, height), union(box for line in boxes for box in line), rng, variation)
    image = np.asarray(picture, dtype=np.uint8).copy()
    draw_noise_dots(image, rng, noise, variation)
    return RenderedCaptcha(image, formulas, tuple(boxes))
