"""Captcha images of random expressions: seeded rendering with the ``captcha`` library, thin or stock minus.

The library draws its randomness from the ``secrets`` module, which cannot be seeded. This module puts a
stand-in for ``secrets`` into ``captcha.image`` that draws from a per-thread seeded ``random.Random`` while
``seeded(...)`` is active and from the real ``secrets`` otherwise, so every image here is reproducible.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import threading
from typing import Iterator

import captcha.image
import numpy as np
from captcha.image import ImageCaptcha
from PIL import Image
from PIL.ImageDraw import Draw

from competitions.captcha.expressions import random_expression

WIDTH, HEIGHT = 180, 60
FONT_SIZES = tuple(range(35, 56))
TRAINING_STREAM, DEMO_STREAM, DEMO_TEST_STREAM = 1, 2, 3  # independent images for equal seeds


class _SeededSecrets:
    """The three ``secrets`` functions ``captcha.image`` calls, seeded per thread inside ``seeded``."""

    def __init__(self):
        self._local = threading.local()

    def _random(self):
        return getattr(self._local, "random", None) or secrets.SystemRandom()

    @contextlib.contextmanager
    def seeded(self, seed: int) -> Iterator[None]:
        previous = getattr(self._local, "random", None)
        self._local.random = random.Random(seed)
        try:
            yield
        finally:
            self._local.random = previous

    def randbelow(self, exclusive_upper: int) -> int:
        return self._random().randrange(exclusive_upper)

    def randbits(self, bits: int) -> int:
        return self._random().getrandbits(bits)

    def choice(self, sequence):
        return self._random().choice(sequence)


SOURCE = _SeededSecrets()
captcha.image.secrets = SOURCE


class ExpressionCaptcha(ImageCaptcha):
    """ImageCaptcha that can draw '-' thin: the competition drew it without the library's warp, which thickens it.

    The library crops each glyph to its ink and then stretches it back over the full character box, which
    turns a minus into a thick block; the thin variant keeps the glyph as the font draws it.
    """

    def __init__(self, *, thin_minus: bool):
        super().__init__(width=WIDTH, height=HEIGHT, font_sizes=FONT_SIZES)
        self.thin_minus = thin_minus

    def _draw_character(self, character: str, draw, color) -> Image.Image:
        if character != "-" or not self.thin_minus:
            return super()._draw_character(character, draw, color)
        font = SOURCE.choice(self.truefonts)
        _, _, right, bottom = draw.multiline_textbbox((1, 1), character, font=font)
        glyph = Image.new("RGBA", (int(right), int(bottom)))
        Draw(glyph).text((0, 0), character, font=font, fill=color)
        return glyph


class Renderer:
    """Draws seeded captchas of given expressions, with a thin or the stock minus sign."""

    def __init__(self):
        self.thin = ExpressionCaptcha(thin_minus=True)
        self.stock = ExpressionCaptcha(thin_minus=False)

    def render(self, expression: str, *, seed: int, thin_minus: bool) -> Image.Image:
        """The RGB captcha image of ``expression``; equal seeds give equal images."""
        with SOURCE.seeded(seed):
            return (self.thin if thin_minus else self.stock).generate_image(expression)


def stream_random(*key: int) -> random.Random:
    """A ``random.Random`` for one (stream, seed, index) key, independent of every other key."""
    return random.Random(int(np.random.SeedSequence(list(key)).generate_state(1)[0]))


def draw_examples(renderer: Renderer, rng: random.Random, count: int,
                  thin_fraction: float = 0.5) -> Iterator[tuple[Image.Image, str]]:
    """``count`` (image, expression) pairs of random expressions, a ``thin_fraction`` of them with a thin minus."""
    for _ in range(count):
        expression = random_expression(rng)
        thin_minus = rng.random() < thin_fraction
        yield renderer.render(expression, seed=rng.getrandbits(63), thin_minus=thin_minus), expression
