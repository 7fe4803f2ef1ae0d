"""The networks: U-Net and FCN-8s shapes, the bilinear start of the upsampling, the losses."""

import numpy as np
import pytest

from competitions.pathology.models import bilinear_kernel, build_fcn8s, build_unet, segmentation_loss
from tests.conftest import shared_path


def test_unet_maps_tiles_to_two_class_probabilities():
    model = build_unet(tile=32, widths=(4, 8, 16))
    output = model.predict(np.zeros((2, 32, 32, 3), dtype=np.uint8), verbose=0)
    assert output.shape == (2, 32, 32, 2)
    np.testing.assert_allclose(output.sum(axis=-1), 1, atol=1e-5)
    with pytest.raises(ValueError, match="multiple of 4"):
        build_unet(tile=30, widths=(4, 8, 16))


def test_bilinear_kernel_interpolates_each_class_separately():
    kernel = bilinear_kernel(2, 2)
    assert kernel.shape == (4, 4, 2, 2) and kernel[:, :, 0, 1].sum() == 0
    assert kernel[:, :, 0, 0].sum() == pytest.approx(4)  # stride 2: each input spreads over 2x2 output pixels


def test_fcn8s_on_real_squeezenet_weights_starts_at_one_half():
    weights = shared_path("weights", "squeezenet_v1.1_imagenet_notop.h5")
    model = build_fcn8s("squeezenet1_1", tile=96, weights=str(weights))
    names = [layer.name for layer in model.layers]
    assert {"score_deep", "score_middle", "score_shallow", "up_to_image"} <= set(names)
    output = model.predict(np.random.default_rng(0).integers(0, 255, (1, 96, 96, 3)), verbose=0)
    assert output.shape == (1, 96, 96, 2)
    np.testing.assert_allclose(output, 0.5, atol=1e-6)  # zero-initialised score layers, as in FCN


@pytest.mark.parametrize("kind", ["crossentropy", "crossentropy+dice", "dice"])
def test_losses_are_lower_for_the_right_answer(kind):
    loss = segmentation_loss(kind)
    truth = np.array([[[1, 0]]], dtype=np.float32)
    right = np.array([[[[0.1, 0.9], [0.9, 0.1]]]], dtype=np.float32)
    wrong = right[..., ::-1].copy()
    assert float(loss(truth, right)) < float(loss(truth, wrong))
    with pytest.raises(ValueError, match="unknown loss"):
        segmentation_loss("focal")
