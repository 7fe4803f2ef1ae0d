"""The training stream's variation level (config ``variation``): "full" draws every look the renderer has, "narrow"
one face, one size and spacing, black on white; the fit's stream draws from the configured one."""

import random

import numpy as np
import pytest

from comp.contract import FitContext, Recipe
from competitions.captcha_final import spec as spec_module
from competitions.captcha_final.demo import write_demo
from competitions.captcha_final.fonts import cjk_faces
from competitions.captcha_final.formulas import random_formulas
from competitions.captcha_final.renderer import (
    NARROW_STREAM_VARIATION,
    STREAM_VARIATION,
    draw_style,
    render_captcha,
    stream_variation,
)
from competitions.captcha_final.spec import FormulaCrnnSpec, StripRows
from competitions.captcha_final.strips import StripStore
from tests.conftest import run_comp


def test_narrow_draws_one_face_one_size_and_black_ink_on_white_while_full_varies():
    narrow = [draw_style(random.Random(seed), NARROW_STREAM_VARIATION) for seed in range(30)]
    full = [draw_style(random.Random(seed), STREAM_VARIATION) for seed in range(30)]
    assert {(style.cjk_font, style.latin_font, style.font_size, style.spacing) for style in narrow} == {
        (cjk_faces()[0], cjk_faces()[0], 30, 0.05)}
    assert len({style.cjk_font for style in full}) == 4 and len({style.font_size for style in full}) > 8
    assert any(style.latin_font != style.cjk_font for style in full)
    rng = random.Random(4)
    captcha = render_captcha(random_formulas(rng), rng, NARROW_STREAM_VARIATION)
    ink = np.concatenate([captcha.image[top:bottom, left:right].reshape(-1, 3)
                          for line in captcha.character_boxes for left, top, right, bottom in line])
    paper = np.median(captcha.image.reshape(-1, 3), axis=0)
    assert paper.min() == paper.max() >= 250  # white under the grey grain
    grey = ink.max(axis=1) - ink.min(axis=1) < 40  # all but the specks and interference lines crossing the text
    assert ink.min(axis=0).tolist() == [0, 0, 0] and grey.mean() > 0.97


def test_an_unknown_level_is_named_with_the_known_ones():
    assert stream_variation("narrow") is NARROW_STREAM_VARIATION and stream_variation("full") is STREAM_VARIATION
    with pytest.raises(ValueError, match="variation = 'wide' is not a stream variation; use one of 'full', 'narrow'"):
        stream_variation("wide")


class Drawn(Exception):
    """Stops the fit once its stream is made."""


@pytest.mark.parametrize("level", ["full", "narrow"])
def test_a_fold_fit_draws_its_stream_from_the_configured_level(level, monkeypatch):
    made = {}

    def stream(**arguments):
        made.update(arguments)
        raise Drawn

    monkeypatch.setattr(spec_module.formula_batches, "FormulaBatches", stream)
    store = StripStore([], workers=0)
    spec = FormulaCrnnSpec("crnn", StripRows(store, np.array([], dtype=str), store),
                           {"variation": level, "epochs": 1, "steps_per_epoch": 1},
                           Recipe({"batch_size": 4}))
    with pytest.raises(Drawn):
        spec.fit_fold({"batch_size": 4}, np.array([], dtype=int), np.array([], dtype=int), FitContext(seed=1))
    assert made["variation"] is stream_variation(level)


def test_train_refuses_an_unknown_level_in_one_line_before_training(tmp_path, cache_env):
    data = write_demo(tmp_path / "data", n=2, seed=0)
    config = tmp_path / "wide.toml"
    config.write_text('variation = "wide"\n')
    result = run_comp("train", "captcha-final", "--data", str(data), "--config", str(config), "--out",
                      str(tmp_path / "run"), env=cache_env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr[-2000:]
    assert result.stderr.strip().splitlines()[-1] == (
        "comp: error: config: variation = 'wide' is not a stream variation; use one of 'full', 'narrow'")
