"""Backbone registry, weights resolution, offline errors and the proof that real pretrained weights load."""

import hashlib
import math
import urllib.error
from pathlib import Path

import h5py
import numpy as np
import pytest

from comp.errors import CompError
from comp.vision.backbones import BackboneSpec, ResolvedWeights, get_backbone, list_backbones, resolve_weights

SHARED = Path(__file__).resolve().parents[4].parent / "shared"
SQUEEZENET_WEIGHTS = SHARED / "weights" / "squeezenet_v1.1_imagenet_notop.h5"
DOGS_VS_CATS_TRAIN = SHARED / "data" / "dogs-vs-cats" / "train"


@pytest.fixture
def no_local_weights(monkeypatch, tmp_path):
    """An empty Keras cache (for our lookup and for Keras' own get_file) and no $COMP_WEIGHTS_DIR."""
    from keras.src.backend import config

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path / "keras"))
    monkeypatch.delenv("COMP_WEIGHTS_DIR", raising=False)
    return tmp_path / "keras" / "models"


def stride_exponent(input_size: int, feature_size: int) -> int:
    """log2 of a layer's stride, rounded: valid-padded nets (Inception, SqueezeNet) are off by a pixel or two."""
    return round(math.log2(input_size / feature_size))


def test_list_backbones_matches_pattern():
    assert list_backbones("eff*") == [f"efficientnetv2_b{index}" for index in range(4)]
    assert "squeezenet1_1" in list_backbones()


def test_unknown_backbone_lists_known_names():
    with pytest.raises(CompError, match=r"unknown backbone 'resnet9000'; known: .*squeezenet1_1.*vgg16"):
        get_backbone("resnet9000")


@pytest.mark.slow
@pytest.mark.parametrize("name", list_backbones())
def test_backbone_builds_with_random_weights(name):
    """Building is as fast at the native size as at a small one, and there the skip-layer strides can be checked."""
    spec = get_backbone(name)
    assert isinstance(spec, BackboneSpec)
    model = spec.build(resolve_weights(spec, "none"))
    height = spec.input_size[0]
    skip_strides = [stride_exponent(height, model.get_layer(layer).output.shape[1]) for layer in spec.skip_layers]
    output_stride = stride_exponent(height, model.output.shape[1])
    assert (skip_strides, output_stride) == ([3, 4], 4 if name == "squeezenet1_1" else 5)
    images = np.random.default_rng(0).uniform(0, 255, (1, *spec.input_size, 3)).astype("float32")
    features = np.asarray(model(spec.preprocess(images)))
    assert features.shape == (1, *model.output.shape[1:3], spec.feature_size)
    assert np.isfinite(features).all()


def test_random_init_is_deterministic_per_seed():
    spec = get_backbone("squeezenet1_1")
    first, again, other = (spec.build(resolve_weights(spec, "none", seed=seed)) for seed in (0, 0, 1))
    assert resolve_weights(spec, "none", seed=1).identity == "none:seed=1"
    np.testing.assert_array_equal(first.get_weights()[0], again.get_weights()[0])
    assert not np.array_equal(first.get_weights()[0], other.get_weights()[0])


@pytest.mark.parametrize("name", ["vgg16", "efficientnetv2_b0"])
def test_imagenet_offline_without_cache_is_one_line_error(name, no_local_weights, monkeypatch):
    from keras.src.utils import file_utils

    def offline(*args, **kwargs):
        raise urllib.error.URLError(OSError(101, "Network is unreachable"))

    monkeypatch.setattr(file_utils, "urlretrieve", offline)
    spec = get_backbone(name)
    weights = resolve_weights(spec, "imagenet")
    assert weights == ResolvedWeights("imagenet", None, f"imagenet:{spec.weights_filename}")
    with pytest.raises(CompError) as raised:
        spec.build(weights, input_size=(64, 64))
    message = str(raised.value)
    assert "\n" not in message
    assert spec.weights_filename in message and "could not be downloaded" in message
    assert f"--weights {name}=PATH" in message
    assert "$COMP_WEIGHTS_DIR" in message
    assert str(no_local_weights) in message


def test_squeezenet_imagenet_without_local_file_fails_at_resolution(no_local_weights):
    with pytest.raises(CompError, match=r"squeezenet_v1\.1_imagenet_notop\.h5.*--weights squeezenet1_1=PATH"):
        resolve_weights(get_backbone("squeezenet1_1"), "imagenet")


def test_imagenet_prefers_comp_weights_dir_then_keras_cache(no_local_weights, monkeypatch, tmp_path):
    spec = get_backbone("vgg16")
    no_local_weights.mkdir(parents=True)
    cached = no_local_weights / spec.weights_filename
    cached.write_bytes(b"cached")
    assert resolve_weights(spec) == ResolvedWeights(
        "file", str(cached), "file:sha256:" + hashlib.sha256(b"cached").hexdigest()
    )

    weights_dir = tmp_path / "weights"
    weights_dir.mkdir()
    (weights_dir / spec.weights_filename).write_bytes(b"shared")
    monkeypatch.setenv("COMP_WEIGHTS_DIR", str(weights_dir))
    resolved = resolve_weights(spec)
    assert resolved.kind == "file" and resolved.path == str(weights_dir / spec.weights_filename)
    assert resolved.identity == "file:sha256:" + hashlib.sha256(b"shared").hexdigest()


def test_explicit_weights_path(tmp_path):
    spec = get_backbone("resnet50")
    missing = tmp_path / "nowhere" / "resnet.h5"
    with pytest.raises(CompError, match=f"not found: {missing}"):
        resolve_weights(spec, str(missing))
    present = tmp_path / "resnet.h5"
    present.write_bytes(b"weights")
    assert resolve_weights(spec, str(present)).identity == "file:sha256:" + hashlib.sha256(b"weights").hexdigest()


def test_squeezenet_feature_map_at_native_size():
    spec = get_backbone("squeezenet1_1")
    model = spec.build(resolve_weights(spec, "none"))
    features = model(spec.preprocess(np.zeros((1, 227, 227, 3), "float32")))
    assert tuple(features.shape) == (1, 13, 13, 512)


def test_squeezenet_rejects_non_hdf5_file(tmp_path):
    corrupt = tmp_path / "squeezenet.h5"
    corrupt.write_bytes(b"this is not an HDF5 file")
    spec = get_backbone("squeezenet1_1")
    with pytest.raises(CompError, match=f"{corrupt}.*not a readable HDF5 file"):
        spec.build(resolve_weights(spec, str(corrupt)))


def test_squeezenet_rejects_wrong_shapes_naming_the_layer(tmp_path):
    wrong = tmp_path / "squeezenet.h5"
    with h5py.File(wrong, "w") as handle:
        handle["conv1/kernel"] = np.zeros((7, 7, 3, 96), "float32")
        handle["conv1/bias"] = np.zeros((96,), "float32")
    spec = get_backbone("squeezenet1_1")
    expected = r"squeezenet\.h5: layer conv1 .*\(7, 7, 3, 96\).*expected kernel \(3, 3, 3, 64\)"
    with pytest.raises(CompError, match=expected):
        spec.build(resolve_weights(spec, str(wrong)))


def squeezenet_features(weights_source: str, paths: list[Path]) -> np.ndarray:
    """Global-average-pooled SqueezeNet features of the images, resized to 227x227."""
    import tensorflow as tf

    spec = get_backbone("squeezenet1_1")
    model = spec.build(resolve_weights(spec, weights_source))
    images = tf.stack(
        [tf.image.resize(tf.io.decode_jpeg(tf.io.read_file(str(path)), channels=3), spec.input_size) for path in paths]
    )
    feature_maps = model.predict(spec.preprocess(images), batch_size=50, verbose=0)
    return feature_maps.mean(axis=(1, 2))


def test_pretrained_squeezenet_transfers_to_dogs_vs_cats(monkeypatch):
    if not SQUEEZENET_WEIGHTS.is_file() or not DOGS_VS_CATS_TRAIN.is_dir():
        pytest.skip(f"../shared not present: needs {SQUEEZENET_WEIGHTS} and {DOGS_VS_CATS_TRAIN}")
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    monkeypatch.setenv("COMP_WEIGHTS_DIR", str(SQUEEZENET_WEIGHTS.parent))
    cats = sorted(DOGS_VS_CATS_TRAIN.glob("cat.*.jpg"))[:150]
    dogs = sorted(DOGS_VS_CATS_TRAIN.glob("dog.*.jpg"))[:150]
    labels = np.array([0] * len(cats) + [1] * len(dogs))

    def cross_validated_accuracy(weights_source: str) -> float:
        features = squeezenet_features(weights_source, cats + dogs)
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        return float(cross_val_score(classifier, features, labels, cv=folds).mean())

    pretrained = cross_validated_accuracy("imagenet")
    random_init = cross_validated_accuracy("none")
    print(f"squeezenet1_1 dogs-vs-cats 5-fold accuracy: pretrained {pretrained:.3f}, random init {random_init:.3f}")
    assert pretrained >= 0.85, f"pretrained {pretrained:.3f} < 0.85 (random init {random_init:.3f})"
    assert pretrained - random_init >= 0.15, f"pretrained {pretrained:.3f} vs random init {random_init:.3f}"
