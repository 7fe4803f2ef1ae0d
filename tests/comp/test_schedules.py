"""Learning-rate schedules by the share of training done, shared by the captcha fits and fine-tuning."""

import pytest

from comp.schedules import learning_rate_at


def test_the_seeds_schedule_drops_tenfold_at_60_and_85_percent_and_constant_stays():
    assert [learning_rate_at("seed", 1e-3, p) for p in (0.0, 0.7, 0.9)] == [1e-3, 1e-4, 1e-5]
    assert learning_rate_at("constant", 0.3, 0.7, warmup=0.1) == 0.3


def test_cosine_warms_up_from_a_tenth_then_decays_to_one_percent():
    assert learning_rate_at("cosine", 1.0, 0.0, warmup=0.1) == pytest.approx(0.1)
    assert learning_rate_at("cosine", 1.0, 0.1, warmup=0.1) == pytest.approx(1.0)
    assert learning_rate_at("cosine", 1.0, 1.0, warmup=0.1) == pytest.approx(0.01)
    assert learning_rate_at("cosine", 1.0, 0.0) == pytest.approx(1.0)  # no warm-up asked: the full rate at once


def test_step_divides_by_ten_after_each_third():
    assert [learning_rate_at("step", 1.0, done) for done in (0.2, 0.5, 0.9, 1.0)] == pytest.approx(
        [1.0, 0.1, 0.01, 0.01])


def test_an_unknown_schedule_is_a_value_error_listing_the_known_ones():
    with pytest.raises(ValueError, match="unknown learning-rate schedule 'linear'; known: constant, cosine, step, seed"):
        learning_rate_at("linear", 1.0, 0.5)
