"""Feature sets: which (backbone, view) columns each set's views concatenate, and what happens to unreadable images."""

import numpy as np
import pandas as pd
import pytest

from comp import CompError, Dataset
from comp.vision.features import (
    build_feature_sets,
    feature_requests,
    feature_set_layout,
    fill_unreadable,
    stack_columns,
)
from competitions.dogs.demo import write_demo

RANDOM_SQUEEZENET = {"backbones": ["squeezenet1_1"], "weights": {"squeezenet1_1": "none"}, "extract_batch_size": 4,
                     "chunk_size": 4}


def test_one_backbone_and_one_view_is_one_set_of_one_matrix():
    assert feature_set_layout({"backbones": ["resnet50"], "views": ["orig"]}) == {"resnet50.orig": [["resnet50:orig"]]}


def test_several_views_add_a_tta_set_holding_each_view():
    assert feature_set_layout({"backbones": ["resnet50"], "views": ["orig", "flip"]}) == {
        "resnet50.orig": [["resnet50:orig"]],
        "resnet50.flip": [["resnet50:flip"]],
        "resnet50.tta": [["resnet50:orig"], ["resnet50:flip"]],
    }


def test_several_backbones_add_a_concat_set_with_their_columns_side_by_side():
    assert feature_set_layout({"backbones": ["resnet50", "xception"], "views": ["orig"]}) == {
        "resnet50.orig": [["resnet50:orig"]],
        "xception.orig": [["xception:orig"]],
        "concat.orig": [["resnet50:orig", "xception:orig"]],
    }


def test_several_backbones_and_views_concatenate_per_view_and_tta_over_the_concatenations():
    layout = feature_set_layout({"backbones": ["resnet50", "xception"], "views": ["orig", "flip"]})
    assert list(layout) == ["resnet50.orig", "resnet50.flip", "resnet50.tta", "xception.orig", "xception.flip",
                            "xception.tta", "concat.orig", "concat.flip", "concat.tta"]
    assert layout["concat.flip"] == [["resnet50:flip", "xception:flip"]]
    assert layout["concat.tta"] == [["resnet50:orig", "xception:orig"], ["resnet50:flip", "xception:flip"]]


def test_the_views_default_to_orig_and_flip():
    assert list(feature_set_layout({"backbones": ["resnet50"]})) == ["resnet50.orig", "resnet50.flip", "resnet50.tta"]


def test_every_column_a_layout_reads_is_one_of_the_requests():
    config = {"backbones": ["squeezenet1_1", "mobilenet_v2"], "weights": {"squeezenet1_1": "none",
                                                                           "mobilenet_v2": "none"}}
    requests = feature_requests(config)
    assert [request.name for request in requests] == ["squeezenet1_1:orig", "squeezenet1_1:flip",
                                                      "mobilenet_v2:orig", "mobilenet_v2:flip"]
    read = {name for views in feature_set_layout(config).values() for view in views for name in view}
    assert read == {request.name for request in requests}


def test_weights_for_a_backbone_not_in_backbones_is_a_one_line_error():
    with pytest.raises(CompError) as raised:
        feature_requests({"backbones": ["squeezenet1_1"], "weights": {"resnet50": "none"}})
    message = str(raised.value)
    assert message == "--weights names resnet50 not among --backbones squeezenet1_1"


def test_no_backbones_is_a_one_line_error_pointing_at_the_flag():
    with pytest.raises(CompError, match=r"^no backbones configured; pass --backbones") as raised:
        feature_requests({"backbones": []})
    assert "\n" not in str(raised.value)


def test_stack_columns_puts_the_named_matrices_side_by_side_in_order_on_the_selected_rows():
    features = {"a:orig": np.arange(6.0).reshape(3, 2), "b:orig": np.arange(10.0, 13.0).reshape(3, 1)}
    stacked = stack_columns(features, ["b:orig", "a:orig"], np.array([True, False, True]))
    assert stacked.dtype == np.float32
    assert np.array_equal(stacked, [[10, 0, 1], [12, 4, 5]])


def test_fill_unreadable_replaces_nan_rows_with_the_fill_values_and_leaves_the_input_alone():
    matrix = np.array([[1.0, 2.0], [np.nan, np.nan], [3.0, 4.0]])
    filled = fill_unreadable(matrix, np.array([7.0, 8.0]))
    assert np.array_equal(filled, [[1, 2], [7, 8], [3, 4]])
    assert np.isnan(matrix[1]).all()


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Eight training images (4 cats, 4 dogs) and two test images."""
    return write_demo(tmp_path_factory.mktemp("dogs"), n=8, seed=0)


def dataset_of(folder, *, bad_train: int = 0, bad_test: int = 0) -> Dataset:
    """The demo images as a Dataset, with undecodable files appended to train and test."""
    train = sorted((folder / "train").glob("*.jpg"))
    test = sorted((folder / "test").glob("*.jpg"))
    for kind, paths, count in (("train", train, bad_train), ("test", test, bad_test)):
        for index in range(count):
            broken = folder / f"broken_{kind}" / f"{index}.jpg"
            broken.parent.mkdir(exist_ok=True)
            broken.write_bytes(b"" if index % 2 else b"not a picture")
            paths.append(broken)
    return Dataset(data_dir=folder,
                   train=pd.DataFrame({"id": range(len(train)), "path": list(map(str, train)),
                                       "label": np.arange(len(train)) % 2}),
                   test=pd.DataFrame({"id": range(len(test)), "path": list(map(str, test))}))


def test_feature_sets_have_one_row_per_image_and_the_tta_set_is_both_views(images, tmp_path):
    sets = {feature_set.name: feature_set for feature_set in
            build_feature_sets(dataset_of(images), RANDOM_SQUEEZENET, tmp_path / "cache")}
    assert list(sets) == ["squeezenet1_1.orig", "squeezenet1_1.flip", "squeezenet1_1.tta"]
    orig, flip, tta = sets.values()
    assert orig.dimension == 512 and orig.train_views[0].shape == (8, 512) and orig.test_views[0].shape == (2, 512)
    assert not np.allclose(orig.train_views[0], flip.train_views[0])
    assert np.array_equal(tta.train_views[0], orig.train_views[0])
    assert np.array_equal(tta.test_views[1], flip.test_views[0])


def test_unreadable_training_images_are_dropped_and_recorded(images, tmp_path):
    dataset = dataset_of(images, bad_train=2)
    broken = dataset.train["path"].tolist()[-2:]
    sets = build_feature_sets(dataset, {**RANDOM_SQUEEZENET, "views": ["orig"]}, tmp_path / "cache")
    assert sorted(dataset.dropped) == sorted(broken)
    assert len(dataset.train) == 8 and not dataset.train["path"].isin(broken).any()
    assert all(view.shape[0] == 8 and np.isfinite(view).all() for view in sets[0].train_views)


def test_unreadable_test_images_stop_the_run_with_one_line_naming_them(images, tmp_path):
    dataset = dataset_of(images, bad_test=2)
    with pytest.raises(CompError) as raised:
        build_feature_sets(dataset, {**RANDOM_SQUEEZENET, "views": ["orig"]}, tmp_path / "cache")
    message = str(raised.value)
    assert "\n" not in message and message.startswith("2 test image(s) cannot be decoded: ")
    assert all(path in message for path in dataset.test["path"].tolist()[-2:]) and "--allow-bad-test" in message


def test_with_allow_bad_test_unreadable_test_rows_get_the_training_mean_of_each_view(images, tmp_path):
    dataset = dataset_of(images, bad_test=2)
    sets = build_feature_sets(dataset, {**RANDOM_SQUEEZENET, "allow_bad_test": True}, tmp_path / "cache")
    for feature_set in sets:
        for train_view, test_view in zip(feature_set.train_views, feature_set.test_views):
            assert test_view.shape == (4, 512)
            assert np.allclose(test_view[2:], train_view.mean(axis=0))  # the two unreadable images
            assert np.isfinite(test_view[:2]).all() and not np.allclose(test_view[:2], train_view.mean(axis=0))
