"""The U-Net on a registry encoder: skips from every stride of the encoder, and the frozen-encoder warm-up (weights
and batch-norm statistics unchanged) before the whole network is fine-tuned."""

import keras
import numpy as np
import pytest

from competitions.pathology.augment import TileSampler
from competitions.pathology.encoder_unet import build_encoder_unet, encoder_of, unet_on_encoder
from competitions.pathology.training import Phase, budgeted_params, fit_network, training_phases


def blob_slides(count=2, size=48):
    """Random slides with a bright square marked in their masks."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 120, (size, size, 3), dtype=np.uint8) for _ in range(count)]
    masks = [np.zeros((size, size), dtype=np.uint8) for _ in range(count)]
    for image, mask in zip(images, masks):
        image[10:30, 12:34] = 230
        mask[10:30, 12:34] = 1
    return images, masks


def small_batch_norm_backbone(tile=32):
    """A two-stage conv + BN backbone (strides 2 and 4): the layers a frozen registry encoder's BN must not update."""
    inputs = keras.Input((tile, tile, 3))
    tensor = inputs
    for stage in (1, 2):
        tensor = keras.layers.Conv2D(4, 3, strides=2, padding="same", name=f"stage{stage}_conv")(tensor)
        tensor = keras.layers.BatchNormalization(name=f"stage{stage}_bn")(tensor)
        tensor = keras.layers.Activation("relu", name=f"stage{stage}_relu")(tensor)
    return keras.Model(inputs, tensor, name="small")


def test_squeezenet_unet_takes_a_skip_from_each_stride_of_the_encoder():
    model = build_encoder_unet("squeezenet1_1", tile=64, decoder_widths=(16, 8), weights="none")
    sizes = [tuple(output.shape[1:3]) for output in encoder_of(model).outputs]
    assert sizes == [(31, 31), (15, 15), (7, 7), (3, 3)]  # conv1, fire3, fire5, fire9: strides 2, 4, 8, 16
    output = model.predict(np.zeros((1, 64, 64, 3), dtype=np.uint8), verbose=0)
    assert output.shape == (1, 64, 64, 2)
    np.testing.assert_allclose(output.sum(axis=-1), 1, atol=1e-5)


def test_the_warm_up_freezes_the_encoder_then_fine_tunes_it_at_a_lower_rate():
    assert training_phases({"epochs": 5, "learning_rate": 1e-3, "warmup_epochs": 2, "fine_tune_rate": 0.1}, True) \
        == [Phase(2, 1e-3, True), Phase(3, pytest.approx(1e-4), False)]
    assert training_phases({"epochs": 5, "learning_rate": 1e-3, "warmup_epochs": 2}, False) == [Phase(5, 1e-3, False)]
    assert training_phases({"epochs": 1, "learning_rate": 1e-3, "warmup_epochs": 3}, True) == [Phase(1, 1e-3, True)]


def test_encoder_weights_and_batch_norm_statistics_stay_put_in_the_warm_up_then_train():
    model = unet_on_encoder(small_batch_norm_backbone(), keras.layers.Rescaling(1 / 255), tile=32,
                            decoder_widths=(8,), l2=0.0, name="test")
    encoder = encoder_of(model)
    images, masks = blob_slides()
    sampler = TileSampler(images, masks, tile=32, seed=0)
    params = {"epochs": 1, "warmup_epochs": 1, "steps_per_epoch": 2, "batch_size": 2, "learning_rate": 1e-2}
    encoder_before = [weight.copy() for weight in encoder.get_weights()]  # kernels and BN moving mean/variance
    decoder_before = model.get_layer("probabilities").get_weights()[0].copy()
    fit_network(model, sampler, params, name="test", seed=0, encoder=encoder)
    for before, after in zip(encoder_before, encoder.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert not np.array_equal(decoder_before, model.get_layer("probabilities").get_weights()[0])
    assert encoder.trainable  # left trainable for the fine-tuning and for saving
    fit_network(model, sampler, {**params, "warmup_epochs": 0}, name="test", seed=0, encoder=encoder)
    assert any(not np.array_equal(before, after) for before, after in zip(encoder_before, encoder.get_weights()))


def test_a_time_budget_plans_the_epochs_it_holds_and_shortens_the_warm_up_in_proportion():
    params = {"epochs": 12, "warmup_epochs": 3, "learning_rate": 1e-3}
    assert budgeted_params(params, epoch_seconds=10, seconds_allowed=60) == {**params, "epochs": 6, "warmup_epochs": 2}
    assert budgeted_params(params, epoch_seconds=10, seconds_allowed=1000)["epochs"] == 12  # never more than planned
    assert budgeted_params(params, epoch_seconds=10, seconds_allowed=3) == {**params, "epochs": 1, "warmup_epochs": 1}
    assert "warmup_epochs" not in budgeted_params({"epochs": 4}, epoch_seconds=1, seconds_allowed=2)


def test_a_fit_under_a_time_limit_trains_fewer_epochs_and_stops_before_overrunning(monkeypatch):
    """The first epoch is timed (a fake clock: 10 s per epoch) and the fit plans what 35 s hold: 3 of 12 epochs."""
    import competitions.pathology.training as training

    clock = {"now": 0.0}
    monkeypatch.setattr(training.time, "perf_counter", lambda: clock["now"])

    class TenSecondEpochs(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            clock["now"] += 10.0

    original = training.run_phase
    monkeypatch.setattr(training, "run_phase", lambda *args, callbacks=(), **kwargs: original(
        *args, callbacks=[TenSecondEpochs(), *callbacks], **kwargs))
    model = unet_on_encoder(small_batch_norm_backbone(), keras.layers.Rescaling(1 / 255), tile=32,
                            decoder_widths=(8,), l2=0.0, name="test")
    images, masks = blob_slides()
    params = {"epochs": 12, "warmup_epochs": 4, "steps_per_epoch": 1, "batch_size": 2, "learning_rate": 1e-3}
    history = fit_network(model, TileSampler(images, masks, tile=32, seed=0), params, name="test", seed=0,
                          encoder=encoder_of(model), seconds_allowed=35)
    assert len(history["loss"]) == 3 and clock["now"] <= 35
    untimed = fit_network(model, TileSampler(images, masks, tile=32, seed=0), {**params, "epochs": 2}, name="test",
                          seed=0, encoder=encoder_of(model))
    assert len(untimed["loss"]) == 2
