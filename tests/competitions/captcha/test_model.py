"""The CRNN: shapes, batched greedy CTC decoding, the learning-rate schedules, and a tiny model that learns."""

import numpy as np
import pytest

from comp.sequence.network import compile_crnn
from comp.vision import scheduled_rate
from competitions.captcha.generator import Renderer, stream_random
from competitions.captcha.images import to_array
from competitions.captcha.model import (
    N_CLASSES,
    TIME_STEPS,
    build_crnn,
    decode,
    encode_labels,
    predict_expressions,
)
from competitions.captcha.spec import LEAN_CRNN, SEED_CRNN, architecture


@pytest.mark.parametrize("params", [LEAN_CRNN, SEED_CRNN], ids=["lean", "seed"])
def test_both_networks_read_22_steps_of_blank_plus_15_characters(params):
    model = build_crnn(**architecture(params))
    assert model.input_shape == (None, 60, 180, params["channels"])
    assert model.output_shape == (None, TIME_STEPS, N_CLASSES) == (None, 22, 16)


def test_too_few_columns_for_ctc_are_refused():
    with pytest.raises(ValueError, match="cannot end at 22 columns"):
        build_crnn(downsample=10)


def test_greedy_decoding_merges_repeats_drops_blanks_and_handles_a_batch():
    paths = {"(3-5)*2": [14, 14, 0, 4, 0, 0, 12, 6, 6, 15, 13, 3], "11": [2, 2, 0, 2], "": [0, 0]}
    logits = np.zeros((len(paths), TIME_STEPS, N_CLASSES), dtype=np.float32)
    logits[:, :, 0] = 1.0
    for row, path in enumerate(paths.values()):
        for step, value in enumerate(path):
            logits[row, step, value] = 5.0
    assert decode(logits).tolist() == list(paths)
    assert decode(np.zeros((0, TIME_STEPS, N_CLASSES))).tolist() == []
    assert encode_labels(["(3-5)*2"])[0, :8].tolist() == [14, 4, 12, 6, 15, 13, 3, 0]
    with pytest.raises(ValueError, match="longer than 16"):
        encode_labels(["1+" * 9])


def test_deadline_stops_a_fit_and_sets_the_scheduled_rate():
    model = compile_crnn(build_crnn(conv_widths=(4, 4, 4), dense_units=4, gru_units=4, gru_layers=1),
                         learning_rate=1e-3)
    images, labels = np.zeros((4, 60, 180, 1), np.uint8), encode_labels(["1+2"] * 4)
    deadline = scheduled_rate(schedule="seed", base=1e-3, warmup=0.0, planned_steps=10, seconds_allowed=1e-6,
                              stop_at_deadline=True)
    model.fit(images, labels, batch_size=2, epochs=5, callbacks=[deadline], verbose=0)
    assert deadline.steps_done == 1
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(1e-5)  # out of time: the schedule's end


def test_a_tiny_crnn_learns_a_two_digit_toy_set_to_100_percent():
    import keras

    keras.utils.set_random_seed(0)
    rng = stream_random(9, 9, 9)
    expressions = [f"{rng.randrange(10)}{rng.randrange(10)}" for _ in range(16)]
    renderer = Renderer()
    images = np.stack([to_array(renderer.render(text, seed=index, thin_minus=True), 1)
                       for index, text in enumerate(expressions)])
    model = compile_crnn(build_crnn(conv_widths=(8, 16, 16), convs_per_block=1, dense_units=32, gru_units=32,
                                    gru_layers=1, dropout=0.0, norm_momentum=0.9), learning_rate=3e-3)
    accuracy = 0.0
    for _ in range(12):
        model.fit(images, encode_labels(expressions), batch_size=8, epochs=10, verbose=0)
        accuracy = float(np.mean(predict_expressions(model, images) == np.array(expressions)))
        if accuracy == 1.0:
            break
    assert accuracy == 1.0
