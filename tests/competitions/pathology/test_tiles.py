"""Overlapping-tile prediction: an identity model returns its input; test-time views are undone exactly."""

import numpy as np
import pytest

from competitions.pathology.tiles import TTA_VIEWS, predict_tiled, predict_with_views, tile_origins, undo_view, view


@pytest.mark.parametrize("shape", [(100, 130, 3), (64, 64, 3), (30, 45, 3), (257, 96, 2)])
def test_identity_model_round_trips_any_image_size(shape):
    image = np.random.default_rng(1).random(shape).astype(np.float32)
    calls = []

    def identity(batch):
        calls.append(batch.shape)
        return batch

    blended = predict_tiled(image, identity, tile=64, overlap=0.5, batch_size=3)
    assert blended.shape == shape
    np.testing.assert_allclose(blended, image, atol=1e-5)
    assert all(call[1:3] == (64, 64) and call[0] <= 3 for call in calls)


def test_tiles_cover_the_image_with_the_last_flush_to_the_end():
    assert tile_origins(100, 64, 32) == [0, 32, 36]
    assert tile_origins(64, 64, 32) == [0]
    with pytest.raises(ValueError, match="overlap"):
        predict_tiled(np.zeros((8, 8, 1)), lambda batch: batch, tile=4, overlap=1.0)


@pytest.mark.parametrize("name", TTA_VIEWS)
def test_every_view_is_undone(name):
    image = np.arange(5 * 7 * 2).reshape(5, 7, 2)
    assert np.array_equal(undo_view(view(image, name), name), image)


def test_views_of_an_identity_model_average_back_to_the_input():
    image = np.random.default_rng(2).random((50, 70, 1)).astype(np.float32)
    blended = predict_with_views(image, lambda batch: batch, tile=32, views=TTA_VIEWS)
    np.testing.assert_allclose(blended, image, atol=1e-5)
