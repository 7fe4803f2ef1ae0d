"""Test-time views: one arithmetic for feature extraction, fine-tuned networks and exported pipelines."""

import numpy as np
import pytest

from comp.errors import CompError
from comp.vision.views import VIEWS, check_views, crop_side, view_of


def marked_batch(height=50, width=60):
    """One image (1, height, width, 3) that is 0 everywhere but for a 4x4 block of 255 in each corner, coded by
    channel: top-left red, top-right green, bottom-left blue, bottom-right white."""
    image = np.zeros((1, height, width, 3), np.float32)
    image[0, :4, :4, 0] = 255
    image[0, :4, -4:, 1] = 255
    image[0, -4:, :4, 2] = 255
    image[0, -4:, -4:, :] = 255
    return image


@pytest.mark.parametrize("view", list(VIEWS))
def test_every_view_keeps_the_batch_shape(view):
    assert np.asarray(view_of(marked_batch(), view)).shape == (1, 50, 60, 3)


def test_a_corner_crop_keeps_its_own_corner_and_loses_the_others():
    seen = {view: np.asarray(view_of(marked_batch(), view))[0] for view in VIEWS if view.startswith("crop")}
    kept = {"crop_top_left": 0, "crop_top_right": 1, "crop_bottom_left": 2}
    for view, channel in kept.items():
        others = [c for c in range(3) if c != channel]
        assert seen[view][..., channel].max() > 200 and seen[view][..., others].max() < 1e-3, view
    assert seen["crop_bottom_right"].min(axis=-1).max() > 200  # the white block
    assert (seen["crop_bottom_right"][..., 0] - seen["crop_bottom_right"][..., 1]).max() < 1e-3  # no red block
    assert seen["crop"].max() < 1e-3 and seen["crop_flip"].max() < 1e-3  # the centre keeps no corner


def test_the_central_crop_is_tensorflows_central_crop_enlarged_and_flip_mirrors():
    import tensorflow as tf

    image = np.random.default_rng(0).uniform(0, 255, size=(2, 45, 70, 3)).astype(np.float32)
    expected = tf.image.resize(tf.image.central_crop(image, 0.8), (45, 70)).numpy()
    np.testing.assert_allclose(np.asarray(view_of(image, "crop")), expected, atol=1e-3)
    np.testing.assert_allclose(np.asarray(view_of(image, "crop_flip")), expected[:, :, ::-1], atol=1e-3)
    np.testing.assert_array_equal(np.asarray(view_of(image, "flip")), image[:, :, ::-1])
    assert crop_side(45) == tf.image.central_crop(image, 0.8).shape[1]


def test_an_unknown_view_is_one_line_naming_where_it_came_from():
    assert check_views(["orig", "crop_top_left"], "here") == ("orig", "crop_top_left")
    with pytest.raises(CompError, match="`views` in run.toml: views \\['mirror'\\] must name some of orig, flip"):
        check_views(["mirror"], "`views` in run.toml")


def test_extraction_sees_the_view_the_exported_layer_computes(tmp_path):
    """Features of a crop view are the backbone on the cropped images, and a saved and reloaded pipeline's View
    layer crops the same pixels: what a head learnt on the cache is what the export feeds it."""
    import keras

    from comp.vision.backbones import get_backbone, resolve_weights
    from comp.vision.features import ExtractionOptions, FeatureRequest, extract
    from comp.vision.heads import custom_layers, register_custom_layers
    from competitions.dogs.demo import write_demo

    paths = sorted(str(path) for path in (write_demo(tmp_path / "data", n=4, seed=3) / "train").iterdir())
    backbone = get_backbone("squeezenet1_1")
    weights = resolve_weights(backbone, "none", seed=0)
    result = extract(paths, [FeatureRequest(backbone, weights, "crop_bottom_right")], cache_dir=tmp_path / "cache",
                     options=ExtractionOptions(batch_size=2, chunk_size=4, show_progress=False))
    features = result.features["squeezenet1_1:crop_bottom_right"]

    image = keras.Input((None, None, 3))
    resized = keras.layers.Resizing(*backbone.input_size)(image)
    viewed = custom_layers().View("crop_bottom_right")(resized)
    pooled = keras.layers.GlobalAveragePooling2D()(backbone.build(weights)(backbone.preprocessing_layer()(viewed)))
    keras.Model(image, pooled).save(tmp_path / "view.keras")
    register_custom_layers()
    reloaded = keras.models.load_model(tmp_path / "view.keras")
    import tensorflow as tf

    for row, path in enumerate(paths):
        decoded = tf.cast(tf.io.decode_image(tf.io.read_file(path), channels=3), tf.float32)[None]
        np.testing.assert_allclose(np.asarray(reloaded(decoded))[0], features[row], rtol=1e-3, atol=1e-3)
