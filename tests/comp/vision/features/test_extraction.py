"""Extraction through tf.data and the content-addressed, chunked, resumable feature cache."""

import os
import shutil

import numpy as np
import pytest

from comp.vision.backbones import get_backbone, resolve_weights
from comp.vision.features import ExtractionOptions, FeatureRequest, extract
from competitions.dogs.demo import write_demo

OPTIONS = ExtractionOptions(batch_size=4, chunk_size=4, show_progress=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = write_demo(tmp_path_factory.mktemp("dogs"), n=10, seed=0) / "train"
    return sorted(str(path) for path in folder.iterdir())


@pytest.fixture(scope="module")
def requests():
    backbone = get_backbone("squeezenet1_1")
    weights = resolve_weights(backbone, "none", seed=0)
    return [FeatureRequest(backbone, weights, "orig"), FeatureRequest(backbone, weights, "flip")]


def test_features_have_one_row_per_image_and_flip_is_a_different_view(images, requests, tmp_path):
    result = extract(images, requests, cache_dir=tmp_path, options=OPTIONS)
    orig, flip = result.features["squeezenet1_1:orig"], result.features["squeezenet1_1:flip"]
    assert orig.shape == flip.shape == (10, 512)
    assert np.isfinite(orig).all() and not np.allclose(orig, flip)
    assert result.bad_paths == [] and result.computed_images == 10


def test_a_second_extraction_computes_nothing_and_is_memory_mapped(images, requests, tmp_path):
    first = extract(images, requests, cache_dir=tmp_path, options=OPTIONS)
    second = extract(images, requests, cache_dir=tmp_path, options=OPTIONS)
    assert second.computed_images == 0
    assert isinstance(second.features["squeezenet1_1:orig"], np.memmap)
    assert np.array_equal(first.features["squeezenet1_1:orig"], second.features["squeezenet1_1:orig"])


def test_new_bytes_in_an_image_file_change_the_cache_key_and_a_new_time_alone_does_not(images, requests, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    copies = [shutil.copy(path, folder) for path in images]
    extract(copies, requests[:1], cache_dir=tmp_path, options=OPTIONS)
    stat = os.stat(copies[0])
    os.utime(copies[0], ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert extract(copies, requests[:1], cache_dir=tmp_path, options=OPTIONS).computed_images == 0
    with open(copies[0], "wb") as handle:
        handle.write(open(images[1], "rb").read())
    assert extract(copies, requests[:1], cache_dir=tmp_path, options=OPTIONS).computed_images == 10


def test_undecodable_images_become_nan_rows_and_are_named(images, requests, tmp_path):
    folder = tmp_path / "bad"
    folder.mkdir()
    truncated, empty, text = folder / "cat.90.jpg", folder / "cat.91.jpg", folder / "cat.92.jpg"
    truncated.write_bytes(open(images[0], "rb").read()[:600])
    empty.write_bytes(b"")
    text.write_text("not a picture")
    paths = images[:3] + [str(truncated), str(empty), str(text)]
    result = extract(paths, requests[:1], cache_dir=tmp_path / "cache", options=OPTIONS)
    matrix = result.features["squeezenet1_1:orig"]
    assert sorted(result.bad_paths) == sorted([str(truncated), str(empty), str(text)])
    assert np.isnan(matrix[3:]).all() and np.isfinite(matrix[:3]).all()


def test_an_interrupted_extraction_resumes_missing_chunks_to_identical_bytes(images, requests, tmp_path,
                                                                             monkeypatch):
    import comp.vision.features._extraction as features

    reference = extract(images, requests, cache_dir=tmp_path / "reference", options=OPTIONS)
    original = features.decoded_images
    calls = []

    def dies_on_third_chunk(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(features, "decoded_images", dies_on_third_chunk)
    with pytest.raises(KeyboardInterrupt):
        extract(images, requests, cache_dir=tmp_path / "resumed", options=OPTIONS)
    monkeypatch.setattr(features, "decoded_images", original)
    resumed = extract(images, requests, cache_dir=tmp_path / "resumed", options=OPTIONS)
    assert resumed.computed_images == 2  # chunks 0 and 1 (8 images) were kept; only chunk 2 was computed
    for name in reference.features:
        reference_file = reference.features[name].filename
        resumed_file = resumed.features[name].filename
        assert open(reference_file, "rb").read() == open(resumed_file, "rb").read()


@pytest.mark.parametrize("option", ["xla", "mixed_precision"])
def test_gpu_options_give_the_same_features_within_precision(images, requests, tmp_path, option):
    """XLA and float16 compute change speed on a GPU, not the features (checked here on the CPU code path)."""
    import dataclasses

    plain = extract(images[:4], requests[:1], cache_dir=tmp_path / "plain", options=OPTIONS)
    fast = extract(images[:4], requests[:1], cache_dir=tmp_path / option,
                   options=dataclasses.replace(OPTIONS, **{option: True}))
    reference, other = plain.features["squeezenet1_1:orig"], fast.features["squeezenet1_1:orig"]
    assert other.dtype == np.float32
    assert np.allclose(reference, other, rtol=0.05, atol=0.05 * float(np.abs(reference).mean()))
