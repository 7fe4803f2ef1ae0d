"""How well the crop finds the formula lines, measured on generated images whose character boxes are known.

An image's crop is right when it finds one box per formula line and box ``i`` (top to bottom) holds every character
of line ``i``. The target is at least 0.995 of images. How tight the right crops are is measured too: the share of
the crops' area that the lines' ink boxes fill (an interference line taken in makes a crop loose, and the strip then
shrinks the text in it). ``--renderer other`` measures both on the robustness check's other renderer
(other_renderer.py) instead of the training one.

    python -m competitions.captcha_final.crop_quality --n 200 --seed 0
    python -m competitions.captcha_final.crop_quality --renderer other --n 300 --seed 0
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field

from competitions.captcha_final.boxes import Box, contains
from competitions.captcha_final.cropping import CROP_SETTINGS, CropSettings, NoTextRegion, find_lines
from competitions.captcha_final.formulas import random_formulas
from competitions.captcha_final.other_renderer import draw_other
from competitions.captcha_final.renderer import VARIATION, RenderedCaptcha, Variation, render_captcha
from competitions.captcha_final.streams import stream_random


def area(box: Box) -> int:
    return (box[2] - box[0]) * (box[3] - box[1])


def crop_result(captcha: RenderedCaptcha, settings: CropSettings = CROP_SETTINGS) -> tuple[str | None, float | None]:
    """(None, text share) when the crop of ``captcha`` holds each line whole in its own box, the text share being the
    lines' ink box areas over their crops' areas; else (what went wrong in words, None)."""
    try:
        boxes = find_lines(captcha.image, settings)
    except NoTextRegion as error:
        return f"NoTextRegion: {error}", None
    lines = captcha.character_boxes
    if len(boxes) != len(lines):
        return f"found {len(boxes)} line boxes {boxes} for {len(lines)} lines {list(captcha.line_boxes)}", None
    for index, (box, characters) in enumerate(zip(boxes, lines)):
        outside = [character for character in characters if not contains(box, character)]
        if outside:
            return f"line {index} box {box} misses {len(outside)} of its characters, e.g. {outside[0]}", None
    return None, sum(map(area, captcha.line_boxes)) / max(1, sum(map(area, boxes)))


def crop_fault(captcha: RenderedCaptcha, settings: CropSettings = CROP_SETTINGS) -> str | None:
    """None when the crop of ``captcha`` holds each line whole in its own box; else what went wrong, in words."""
    return crop_result(captcha, settings)[0]


@dataclass
class CropQuality:
    """The share of generated images cropped right, the faults of the others (image index, fault) and the text share
    of each right crop (1.0: the crops are the lines' ink boxes)."""

    images: int
    faults: list[tuple[int, str]] = field(default_factory=list)
    text_shares: list[float] = field(default_factory=list)

    @property
    def fraction_right(self) -> float:
        return 1.0 - len(self.faults) / self.images if self.images else 0.0

    def text_share_quantiles(self) -> tuple[float, float, float]:
        """The 5th percentile, the median and the mean text share of the right crops (0s when there are none)."""
        if not self.text_shares:
            return 0.0, 0.0, 0.0
        ordered = sorted(self.text_shares)
        return ordered[int(0.05 * (len(ordered) - 1))], statistics.median(ordered), statistics.fmean(ordered)


def stream(seed: int, index: int) -> random.Random:
    """The random source of generated image ``index`` of ``seed``: independent of every other (seed, index)."""
    return stream_random(seed, index)


def training_renderer(variation: Variation = VARIATION) -> Callable[[int, int], RenderedCaptcha]:
    """(seed, index) -> the training renderer's captcha of that image, drawn from ``variation``."""
    def draw(seed: int, index: int) -> RenderedCaptcha:
        rng = stream(seed, index)
        return render_captcha(random_formulas(rng), rng, variation)
    return draw


RENDERERS = {"training": training_renderer(), "other": draw_other}


def measure_crop_quality(count: int, seed: int, variation: Variation = VARIATION,
                         settings: CropSettings = CROP_SETTINGS,
                         draw: Callable[[int, int], RenderedCaptcha] | None = None) -> CropQuality:
    """Crop ``count`` freshly generated images and count those whose crop holds every character; ``draw(seed, index)``
    renders image ``index`` (default: the training renderer with ``variation``)."""
    if count < 1:
        raise ValueError(f"crop quality needs at least one image, got {count}")
    draw = draw or training_renderer(variation)
    quality = CropQuality(count)
    for index in range(count):
        fault, text_share = crop_result(draw(seed, index), settings)
        if fault is None:
            quality.text_shares.append(text_share)
        else:
            quality.faults.append((index, fault))
    return quality


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="generated images to crop")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--renderer", choices=sorted(RENDERERS), default="training",
                        help="training: renderer.py (default); other: the robustness check's other_renderer.py")
    arguments = parser.parse_args(argv)
    quality = measure_crop_quality(arguments.n, arguments.seed, draw=RENDERERS[arguments.renderer])
    for index, fault in quality.faults:
        print(f"image {index}: {fault}")
    print(f"crop quality {quality.fraction_right:.4f}: {quality.images - len(quality.faults)} of {quality.images} "
          f"images cropped with every character inside its line's box")
    low, median, mean = quality.text_share_quantiles()
    print(f"text share of the right crops (ink boxes / crop areas): 5th percentile {low:.3f}, median {median:.3f}, "
          f"mean {mean:.3f}")


if __name__ == "__main__":
    main()
