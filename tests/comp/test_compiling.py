"""Compiling with the optimizer built up front: the first fit traces its training step once."""

import keras
import numpy as np

from comp.compiling import compile_model


class CountingModel(keras.Model):
    """A functional model that counts how often Keras traces (runs in Python) its training step."""

    traces = 0

    def train_step(self, data):
        CountingModel.traces += 1
        return super().train_step(data)


def counting_model(frozen_first_layer: bool = False) -> keras.Model:
    inputs = keras.Input((3,))
    hidden = keras.layers.Dense(4, name="hidden", trainable=not frozen_first_layer)(inputs)
    return CountingModel(inputs, keras.layers.Dense(1, name="out")(hidden))


def test_the_first_fit_traces_the_training_step_once():
    model = compile_model(counting_model(), optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    CountingModel.traces = 0
    model.fit(np.zeros((8, 3), np.float32), np.zeros((8, 1), np.float32), batch_size=4, epochs=2, verbose=0)
    assert CountingModel.traces == 1  # Keras alone creates the slots inside the first trace, then traces again


def test_the_optimizer_holds_slots_for_the_trainable_weights_only():
    model = compile_model(counting_model(frozen_first_layer=True), optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    slots = sorted(variable.name for variable in model.optimizer.variables if variable.name.endswith("_momentum"))
    assert slots == ["out_bias_momentum", "out_kernel_momentum"]  # the frozen layer gets none
