"""Generated captchas in the competition's layout: N.png, labels.txt (`<expression> <value>`), test/N.png.

Image ``i`` of a seed does not depend on ``n``, so a small set is the start of a larger one.
"""

from __future__ import annotations

from pathlib import Path

from comp.io import write_text
from comp.sequence import generated_set
from competitions.captcha.expressions import evaluate
from competitions.captcha.generator import (
    DEMO_STREAM,
    DEMO_TEST_STREAM,
    Renderer,
    draw_examples,
    stream_random,
)


def write_demo(out_dir: Path, *, n: int, seed: int, n_test: int = 0, thin_fraction: float = 0.5) -> Path:
    """``n`` labelled images 0.png..(n-1).png with labels.txt, and ``n_test`` unlabelled ones in test/."""
    if n < 1:
        raise ValueError(f"the captcha demo needs --n of at least 1, got {n}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    renderer = Renderer()
    lines = []
    for index in range(n):
        (image, expression), = draw_examples(renderer, stream_random(DEMO_STREAM, seed, index), 1, thin_fraction)
        image.save(out_dir / f"{index}.png")
        lines.append(f"{expression} {evaluate(expression)}\n")
    write_text(out_dir / "labels.txt", "".join(lines))
    if n_test:
        (out_dir / "test").mkdir(exist_ok=True)
        for index in range(n_test):
            (image, _), = draw_examples(renderer, stream_random(DEMO_TEST_STREAM, seed, index), 1, thin_fraction)
            image.save(out_dir / "test" / f"{index}.png")
    return out_dir


def generated_validation_set(cache_dir: Path, *, n: int, seed: int) -> Path:
    """A fixed generated labelled set in the cache (made once, renamed into place whole) for generated-data runs."""
    return generated_set(Path(cache_dir) / "captcha" / f"validation-n{n}-seed{seed}",
                         lambda folder: write_demo(folder, n=n, seed=seed))
