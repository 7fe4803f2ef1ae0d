"""Generated final-round captchas in the competition's layout: N.png, labels.txt (UTF-8, ``<formulas> <value>`` per
image, line 1 for 0.png) and unlabelled test/N.png. Image ``i`` of a seed does not depend on ``n``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PIL import Image

from comp.io import write_text
from comp.sequence import generated_set
from competitions.captcha_final.formulas import make_label, random_formulas
from competitions.captcha_final.renderer import RenderedCaptcha, render_captcha
from competitions.captcha_final.streams import DEMO_STREAM, DEMO_TEST_STREAM, stream_random

# zlib level 1, not PIL's 6: on these grainy canvases it saved a picture in 0.23 s instead of 1.55 s for files 8%
# larger (8 images, loaded machine); writing the 1,000-image validation set took 8 minutes at level 6
PNG_COMPRESSION = 1


def save_png(image, path: Path) -> None:
    """An (h, w, 3) uint8 captcha as a PNG file."""
    Image.fromarray(image).save(path, compress_level=PNG_COMPRESSION)


def draw_image(stream: int, seed: int, index: int):
    """The rendered captcha ``index`` of a (stream, seed)."""
    rng = stream_random(stream, seed, index)
    return render_captcha(random_formulas(rng), rng)


def write_labelled_images(out_dir: Path, n: int, draw: Callable[[int], RenderedCaptcha]) -> Path:
    """``draw(0)..draw(n-1)`` as 0.png..(n-1).png with their labels.txt in the competition's layout."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    lines = []
    for index in range(n):
        captcha = draw(index)
        save_png(captcha.image, out_dir / f"{index}.png")
        lines.append(make_label(captcha.formulas) + "\n")
    write_text(out_dir / "labels.txt", "".join(lines))
    return out_dir


def write_demo(out_dir: Path, *, n: int, seed: int, n_test: int = 0) -> Path:
    """``n`` labelled images 0.png..(n-1).png with labels.txt, and ``n_test`` unlabelled ones in test/."""
    if n < 1:
        raise ValueError(f"the captcha-final demo needs --n of at least 1, got {n}")
    out_dir = write_labelled_images(out_dir, n, lambda index: draw_image(DEMO_STREAM, seed, index))
    if n_test:
        (out_dir / "test").mkdir(exist_ok=True)
        for index in range(n_test):
            save_png(draw_image(DEMO_TEST_STREAM, seed, index).image, out_dir / "test" / f"{index}.png")
    return out_dir


def generated_validation_set(cache_dir: Path, *, n: int, seed: int) -> Path:
    """A fixed generated labelled set in the cache (made once, renamed into place whole) for generated-data runs."""
    return generated_set(Path(cache_dir) / "captcha-final" / f"validation-n{n}-seed{seed}",
                         lambda folder: write_demo(folder, n=n, seed=seed))
