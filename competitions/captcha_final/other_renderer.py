"""A second captcha renderer, written only for the robustness check and never used in training (the training stream,
the demo and the validation sets draw from renderer.py alone): the same label grammar (formulas.py) drawn another way.

What differs from renderer.py:
- fonts: digits and operators always come from typefaces the training renderer never uses (Computer Modern roman,
  typewriter and sans, STIX bold and bold italic, DejaVu Sans oblique and bold oblique, DejaVu Serif bold and bold
  italic, DejaVu Sans Mono bold and bold oblique, all shipped by matplotlib);
  the only CJK faces installed are the training ones (Noto Sans SC, Noto Serif SC, WenQuanYi Micro Hei and Mono), so
  the variables are drawn from them emboldened by a 1-2 pixel stroke or hollow (outline only), at 1.0-1.25 times
  the digits' size;
- geometry: no per-character rotation; each line is sheared as a whole (slanted up to 0.3 either way) and bent along
  a sine wave; lines are centred or left-aligned and sit 1.2-2.2 font sizes apart (training: 1.5-3.5);
- the fraction: numerator and denominator at 0.85-1.0 of the line's size (training 0.6-0.85) around a bar 2-5 pixels
  thick that overhangs them by up to half a font size;
- colour: one ink per line shading into a second ink from left to right (training: one colour per image, per glyph or
  jittered); backgrounds are two light colours in a vertical, horizontal, diagonal or radial gradient with a blotchy
  low-frequency texture (training: one colour, a gentle horizontal gradient and fine grain);
- noise: the text and paper blurred (Gaussian, sigma 0.3-1.0), then dotted and dashed lines and sine curves one
  pixel wide (training: solid lines and arcs), then salt-and-pepper pixels (training: coloured specks of 1-3 pixels).

It returns the same RenderedCaptcha as renderer.py, with every label character's ink box, so the default crop can be
scored on its images (crop_quality.py ``--renderer other``).

    python -m competitions.captcha_final.other_renderer --out DIR --n 300 --seed 0   # DIR/N.png + labels.txt
"""

from __future__ import annotations

import argparse
import math
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

from competitions.captcha_final.boxes import Box
from competitions.captcha_final.demo import write_labelled_images
from competitions.captcha_final.fonts import Face, cjk_faces, latin_faces, load_font
from competitions.captcha_final.formulas import VARIABLES, random_formulas
from competitions.captcha_final.renderer import INK_THRESHOLD, RenderedCaptcha, luminance
from competitions.captcha_final.streams import OTHER_RENDERER_STREAM, stream_random

HEIGHTS = (400, 500, 600, 700, 800, 900, 1000)  # the competition's canvases, as in renderer.py: facts of the data
WIDTHS = (800, 1600, 2400, 3200, 4000)
OTHER_LATIN_FONTS = (  # files in matplotlib's mpl-data/fonts/ttf, none of them in fonts.LATIN_FONTS
    "cmr10.ttf", "cmtt10.ttf", "cmss10.ttf", "STIXGeneralBol.ttf", "STIXGeneralBolIta.ttf", "DejaVuSans-Oblique.ttf",
    "DejaVuSans-BoldOblique.ttf", "DejaVuSerif-Bold.ttf", "DejaVuSerif-BoldItalic.ttf", "DejaVuSansMono-Bold.ttf",
    "DejaVuSansMono-BoldOblique.ttf",
)
CJK_EFFECTS = ("bold", "hollow")
MARGIN = 16  # pixels kept free between the text and the image's edge
SMALLEST_FONT = 16


def other_latin_faces() -> tuple[Face, ...]:
    """The faces drawing digits and operators here: matplotlib's, none of which the training renderer uses."""
    folder = latin_faces()[0].path.parent
    return tuple(Face(folder / name) for name in OTHER_LATIN_FONTS)


@dataclass(frozen=True)
class OtherStyle:
    """One image's look (lengths in pixels or relative to ``font_size``)."""

    digit_face: Face
    cjk_face: Face
    cjk_effect: str  # "bold": a stroke in the ink around each variable; "hollow": the stroke only
    font_size: int
    variable_scale: float
    fraction_scale: float
    bar_thickness: int
    bar_overhang: float
    spacing: float
    line_gap: float
    centred: bool
    shear: float  # horizontal shift per row, relative to the row's distance from the line's middle
    wave_amplitude: float
    wave_length: float


def draw_other_style(rng: random.Random) -> OtherStyle:
    """A random OtherStyle (module docstring)."""
    return OtherStyle(
        digit_face=rng.choice(other_latin_faces()), cjk_face=rng.choice(cjk_faces()),
        cjk_effect=rng.choice(CJK_EFFECTS), font_size=rng.randint(20, 44), variable_scale=rng.uniform(1.0, 1.25),
        fraction_scale=rng.uniform(0.85, 1.0), bar_thickness=rng.randint(2, 5), bar_overhang=rng.uniform(0.0, 0.5),
        spacing=rng.uniform(0.0, 0.12), line_gap=rng.uniform(1.2, 2.2), centred=rng.random() < 0.5,
        shear=rng.uniform(-0.3, 0.3), wave_amplitude=rng.uniform(0.0, 0.15), wave_length=rng.uniform(4.0, 10.0))


@dataclass
class Glyph:
    """A character's coverage tile (uint8 (h, w), a filled one for the fraction's bar) at its top-left corner in line
    coordinates."""

    tile: np.ndarray
    left: int
    top: int

    def ink_points(self) -> np.ndarray:
        """(k, 2) float x, y of the tile's ink pixels in line coordinates."""
        rows, columns = np.nonzero(self.tile >= INK_THRESHOLD)
        return np.stack([columns + self.left, rows + self.top], axis=1).astype(np.float64)


def character_tile(character: str, style: OtherStyle, size: int) -> tuple[np.ndarray, int]:
    """(coverage tile, its baseline's row in the tile) of one character in the style's face and effect."""
    variable = character in VARIABLES
    font = load_font(style.cjk_face if variable else style.digit_face,
                     max(SMALLEST_FONT, round(size * (style.variable_scale if variable else 1.0))))
    stroke = (1 if font.size < 30 else 2) if variable else 0
    left, top, right, bottom = font.getbbox(character, anchor="ls", stroke_width=stroke)
    pad = 2
    tile = Image.new("L", (right - left + 2 * pad, bottom - top + 2 * pad))
    fill = 0 if variable and style.cjk_effect == "hollow" else 255
    ImageDraw.Draw(tile).text((pad - left, pad - top), character, font=font, fill=fill, anchor="ls",
                              stroke_width=stroke, stroke_fill=255)
    return np.asarray(tile, dtype=np.uint8), pad - top


def lay_out(text: str, style: OtherStyle) -> list[Glyph]:
    """The glyphs of one formula line, left to right, in label order; the fraction ``V/123`` stacked around its bar
    (a Glyph of a filled tile standing for '/'); the line's axis (the bar's middle) at y = 0."""
    size = style.font_size
    digit_top, digit_bottom = load_font(style.digit_face, size).getbbox("0", anchor="ls")[1::2]
    baseline = round(-(digit_top + digit_bottom) / 2)  # centres the digits on the axis
    glyphs: list[Glyph] = []
    x = 0
    position = 0
    while position < len(text):
        character = text[position]
        if character in VARIABLES and text[position + 1:position + 2] == "/":
            end = position + 2
            while end < len(text) and text[end].isdigit():
                end += 1
            fraction, x = stacked_fraction(character, text[position + 2:end], style, x)
            glyphs += fraction
            position = end
            continue
        tile, tile_baseline = character_tile(character, style, size)
        glyphs.append(Glyph(tile, x, baseline - tile_baseline))
        x += tile.shape[1] + round(style.spacing * size)
        position += 1
    return glyphs


def stacked_fraction(numerator: str, denominator: str, style: OtherStyle, x: int) -> tuple[list[Glyph], int]:
    """(numerator, bar, denominator digits as Glyphs, the x after the fraction) with the bar on the axis at ``x``."""
    size = round(style.font_size * style.fraction_scale)
    top_tile, _ = character_tile(numerator, style, size)
    digits = [character_tile(digit, style, size)[0] for digit in denominator]
    gap = max(1, round(0.1 * size))
    digits_width = sum(tile.shape[1] for tile in digits) + gap * (len(digits) - 1)
    overhang = round(style.bar_overhang * style.font_size)
    bar_width = max(top_tile.shape[1], digits_width) + 2 * overhang
    thickness = style.bar_thickness
    bar_top = -(thickness // 2)
    glyphs = [Glyph(top_tile, x + (bar_width - top_tile.shape[1]) // 2, bar_top - gap - top_tile.shape[0]),
              Glyph(np.full((thickness, bar_width), 255, dtype=np.uint8), x, bar_top)]
    left = x + (bar_width - digits_width) // 2
    for tile in digits:
        glyphs.append(Glyph(tile, left, bar_top + thickness + gap))
        left += tile.shape[1] + gap
    return glyphs, x + bar_width + round(style.spacing * style.font_size) + gap


class LineWarp:
    """A line's shear about its middle row and its sine-wave bend, as forward maps of points and the inverse map
    ``cv2.remap`` draws with; a line of (height, width) becomes (height + 2 * pad_y, width + 2 * pad_x)."""

    def __init__(self, style: OtherStyle, height: int, width: int, phase: float):
        self.shear, self.middle = style.shear, height / 2
        self.amplitude = style.wave_amplitude * style.font_size
        self.frequency = 2 * math.pi / (style.wave_length * style.font_size)
        self.phase = phase
        self.pad_x = math.ceil(abs(self.shear) * height / 2) + 2
        self.pad_y = math.ceil(self.amplitude) + 2
        self.size = (height + 2 * self.pad_y, width + 2 * self.pad_x)

    def forward(self, points: np.ndarray) -> np.ndarray:
        """(k, 2) x, y in the line's tile -> in the warped tile."""
        x = points[:, 0] + self.shear * (points[:, 1] - self.middle) + self.pad_x
        y = points[:, 1] + self.amplitude * np.sin(self.frequency * x + self.phase) + self.pad_y
        return np.stack([x, y], axis=1)

    def apply(self, mask: np.ndarray) -> np.ndarray:
        """The warped (self.size) uint8 mask of the (height, width) ``mask``."""
        rows, columns = np.indices(self.size, dtype=np.float32)
        source_y = rows - self.pad_y - self.amplitude * np.sin(self.frequency * columns + self.phase)
        source_x = columns - self.pad_x - self.shear * (source_y - self.middle)
        return cv2.remap(mask, source_x.astype(np.float32), source_y.astype(np.float32), cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def line_mask(glyphs: list[Glyph], style: OtherStyle, rng: random.Random) -> tuple[np.ndarray, list[Box]]:
    """(warped coverage mask of one line, uint8 (h, w); each glyph's ink box in it, label order)."""
    left = min(glyph.left for glyph in glyphs)
    top = min(glyph.top for glyph in glyphs)
    width = max(glyph.left + glyph.tile.shape[1] for glyph in glyphs) - left
    height = max(glyph.top + glyph.tile.shape[0] for glyph in glyphs) - top
    mask = np.zeros((height, width), dtype=np.uint8)
    for glyph in glyphs:
        glyph.left, glyph.top = glyph.left - left, glyph.top - top
        region = mask[glyph.top:glyph.top + glyph.tile.shape[0], glyph.left:glyph.left + glyph.tile.shape[1]]
        np.maximum(region, glyph.tile, out=region)
    warp = LineWarp(style, height, width, rng.uniform(0, 2 * math.pi))
    boxes = []
    for glyph in glyphs:
        points = warp.forward(glyph.ink_points())
        if len(points) == 0:  # a glyph without ink above the threshold: its tile is its box
            points = warp.forward(np.array([[glyph.left, glyph.top],
                                            [glyph.left + glyph.tile.shape[1], glyph.top + glyph.tile.shape[0]]]))
        # one pixel more on every side: bilinear drawing spreads ink that far
        boxes.append((math.floor(points[:, 0].min()) - 1, math.floor(points[:, 1].min()) - 1,
                      math.ceil(points[:, 0].max()) + 2, math.ceil(points[:, 1].max()) + 2))
    return warp.apply(mask), boxes


def paper(height: int, width: int, rng: random.Random, noise: np.random.Generator) -> np.ndarray:
    """(height, width, 3) float32: two light colours in a vertical, horizontal, diagonal or radial gradient, with a
    blotchy texture (a coarse random field enlarged)."""
    first = np.array([rng.randint(200, 255) for _ in range(3)], dtype=np.float32)
    second = np.array([rng.randint(170, 255) for _ in range(3)], dtype=np.float32)
    rows, columns = np.ogrid[0:height, 0:width]
    kind = rng.choice(("vertical", "horizontal", "diagonal", "radial"))
    if kind == "vertical":
        share = np.broadcast_to(rows / max(1, height - 1), (height, width))
    elif kind == "horizontal":
        share = np.broadcast_to(columns / max(1, width - 1), (height, width))
    elif kind == "diagonal":
        share = (rows / max(1, height - 1) + columns / max(1, width - 1)) / 2
    else:
        centre_y, centre_x = rng.uniform(0, height), rng.uniform(0, width)
        distance = np.sqrt((rows - centre_y) ** 2 + (columns - centre_x) ** 2)
        share = distance / distance.max()
    image = first + (second - first) * np.asarray(share, dtype=np.float32)[..., np.newaxis]
    coarse = noise.normal(0.0, rng.uniform(0.0, 6.0), (max(2, height // 150), max(2, width // 150), 1))
    texture = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return image + texture[..., np.newaxis]


def line_ink(rng: random.Random, background: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two dark RGB inks (float32 (3,)), each at least 80 below the background's mean luminance."""
    limit = luminance(background.reshape(-1, 3).mean(axis=0)) - 80
    inks = []
    while len(inks) < 2:
        colour = (rng.randint(0, 150), rng.randint(0, 150), rng.randint(0, 150))
        if luminance(colour) <= limit:
            inks.append(np.array(colour, dtype=np.float32))
    return inks[0], inks[1]


def draw_interference(image: np.ndarray, region: Box, rng: random.Random) -> None:
    """Dotted and dashed straight lines and sine curves, one pixel wide, in random colours, some across the text region
    (in place)."""
    height, width = image.shape[:2]
    for _ in range(rng.randint(2, 6)):
        colour = tuple(rng.randint(0, 255) for _ in range(3))
        kind = rng.choice(("dotted", "dashed", "sine"))
        near_text = rng.random() < 0.5
        y0 = rng.uniform(region[1] - 30, region[3] + 30) if near_text else rng.uniform(0, height)
        if kind == "sine":
            xs = np.arange(0, width, 4, dtype=np.float64)
            ys = y0 + rng.uniform(5, 40) * np.sin(xs * 2 * math.pi / rng.uniform(150, 600) + rng.uniform(0, 6.3))
            points = np.stack([xs, ys], axis=1).round().astype(np.int32)
            cv2.polylines(image, [points], False, colour, 1, cv2.LINE_8)
            continue
        start = np.array([rng.uniform(0, width), y0])
        end = np.array([rng.uniform(0, width), y0 + rng.uniform(-60, 60) if near_text else rng.uniform(0, height)])
        length = float(np.linalg.norm(end - start))
        step = rng.uniform(4, 9) if kind == "dotted" else rng.uniform(10, 20)
        for offset in np.arange(0, length, step):
            here = start + (end - start) * offset / max(length, 1e-9)
            if kind == "dotted":
                cv2.circle(image, tuple(int(v) for v in here.round()), 1, colour, -1)
            else:
                there = start + (end - start) * min(length, offset + step / 2) / max(length, 1e-9)
                cv2.line(image, tuple(int(v) for v in here.round()), tuple(int(v) for v in there.round()), colour, 1)


def salt_and_pepper(image: np.ndarray, rng: random.Random, noise: np.random.Generator) -> None:
    """Single black or white pixels over a share 0.001-0.01 of the image (in place)."""
    height, width = image.shape[:2]
    count = int(rng.uniform(0.001, 0.01) * height * width)
    rows, columns = noise.integers(0, height, count), noise.integers(0, width, count)
    image[rows, columns] = np.where(noise.random(count) < 0.5, 0, 255)[:, np.newaxis].astype(np.uint8)


def render_other(formulas: str, rng: random.Random) -> RenderedCaptcha:
    """The captcha of ``formulas`` (grammatical) drawn by this renderer with a look taken from ``rng``."""
    noise = np.random.default_rng(rng.getrandbits(64))
    height, width = rng.choice(HEIGHTS), rng.choice(WIDTHS)
    style = draw_other_style(rng)
    lines = formulas.split(";")
    while True:  # a large font on a small canvas is drawn again smaller until the lines fit
        masks = [line_mask(lay_out(text, style), style, rng) for text in lines]
        gaps = round(style.line_gap * style.font_size) * (len(lines) - 1)
        region_width = max(mask.shape[1] for mask, _ in masks)
        region_height = sum(mask.shape[0] for mask, _ in masks) + gaps
        if (region_width <= width - 2 * MARGIN and region_height <= height - 2 * MARGIN) \
                or style.font_size <= SMALLEST_FONT:
            break
        scale = min((width - 2 * MARGIN) / region_width, (height - 2 * MARGIN) / region_height)
        style = OtherStyle(**{**style.__dict__, "font_size": max(SMALLEST_FONT, int(style.font_size * scale * 0.95))})
    region_left = MARGIN + rng.randint(0, max(0, width - 2 * MARGIN - region_width))
    region_top = MARGIN + rng.randint(0, max(0, height - 2 * MARGIN - region_height))
    image = paper(height, width, rng, noise)
    boxes, top = [], region_top
    for mask, line_boxes in masks:
        left = region_left + ((region_width - mask.shape[1]) // 2 if style.centred else 0)
        first, second = line_ink(rng, image[top:top + mask.shape[0], left:left + mask.shape[1]])
        shade = np.linspace(0.0, 1.0, mask.shape[1], dtype=np.float32)[np.newaxis, :, np.newaxis]
        ink = first + (second - first) * shade
        alpha = (mask.astype(np.float32) / 255.0)[..., np.newaxis]
        part = image[top:top + mask.shape[0], left:left + mask.shape[1]]
        part[:] = part * (1 - alpha) + ink * alpha
        boxes.append(tuple((a + left, b + top, c + left, d + top) for a, b, c, d in line_boxes))
        top += mask.shape[0] + round(style.line_gap * style.font_size)
    picture = np.clip(image, 0, 255).astype(np.uint8)
    region = (region_left, region_top, region_left + region_width, region_top + region_height)
    picture = cv2.GaussianBlur(picture, (0, 0), rng.uniform(0.3, 1.0))  # the text and paper, not the lines
    draw_interference(picture, region, rng)
    salt_and_pepper(picture, rng, noise)
    return RenderedCaptcha(picture, formulas, tuple(boxes))


def draw_other(seed: int, index: int) -> RenderedCaptcha:
    """Image ``index`` of ``seed`` from this renderer: independent of every other (seed, index) and of the training
    renderer's streams."""
    rng = stream_random(OTHER_RENDERER_STREAM, seed, index)
    return render_other(random_formulas(rng), rng)


def write_other_set(out_dir: Path, *, n: int, seed: int) -> Path:
    """``n`` images 0.png..(n-1).png and labels.txt in the competition's layout, drawn by this renderer."""
    if n < 1:
        raise ValueError(f"the other renderer needs --n of at least 1, got {n}")
    return write_labelled_images(out_dir, n, lambda index: draw_other(seed, index))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder for N.png and labels.txt")
    parser.add_argument("--n", type=int, default=300, help="images to draw")
    parser.add_argument("--seed", type=int, default=0)
    arguments = parser.parse_args(argv)
    folder = write_other_set(arguments.out, n=arguments.n, seed=arguments.seed)
    print(f"{arguments.n} images by the other renderer and their labels.txt in {folder}")


if __name__ == "__main__":
    main()
