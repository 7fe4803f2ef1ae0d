"""The feature cache checks itself: a damaged entry is named, moved aside and computed again; a read-only cache that
holds everything is only read; a copy of the images elsewhere finds the same entries."""

import logging
import os
import shutil
import stat

import numpy as np
import pytest

import comp.vision.features._extraction as extraction
from comp.vision.backbones import get_backbone, resolve_weights
from comp.vision.features import ExtractionOptions, FeatureRequest, extract
from competitions.dogs.demo import write_demo

OPTIONS = ExtractionOptions(batch_size=4, chunk_size=4, show_progress=False)
NAME = "squeezenet1_1:orig"


@pytest.fixture(scope="module")
def request_():
    backbone = get_backbone("squeezenet1_1")
    return FeatureRequest(backbone, resolve_weights(backbone, "none", seed=0), "orig")


@pytest.fixture(scope="module")
def filled(tmp_path_factory, request_):
    """Six images and a cache holding their features (two chunks), with the features as computed."""
    root = tmp_path_factory.mktemp("filled")
    images = sorted(str(path) for path in (write_demo(root / "dogs", n=6, seed=0) / "train").iterdir())
    result = extract(images, [request_], cache_dir=root / "cache", options=OPTIONS)
    return images, root / "cache", np.array(result.features[NAME])


def cache_copy(filled, tmp_path):
    images, cache, reference = filled
    copy = tmp_path / "cache"
    shutil.copytree(cache, copy)
    return images, copy, reference, next((copy / "features").glob("*/manifest.json")).parent


def cut_short(entry):
    data = (entry / "features.npy").read_bytes()
    (entry / "features.npy").write_bytes(data[:len(data) // 2])


def same_size_garbage(entry):
    data = bytearray((entry / "features.npy").read_bytes())
    header = 128  # the .npy header: the file still opens as a float32 (6, 512) array
    data[header:] = np.random.default_rng(0).bytes(len(data) - header)
    (entry / "features.npy").write_bytes(bytes(data))


def manifest_not_json(entry):
    (entry / "manifest.json").write_text('{"rows": 6, "dimension"')


@pytest.mark.parametrize("damage", [cut_short, same_size_garbage, manifest_not_json])
def test_a_damaged_entry_is_named_moved_aside_and_computed_again(filled, request_, tmp_path, caplog, damage):
    images, cache, reference, entry = cache_copy(filled, tmp_path)
    damage(entry)
    with caplog.at_level(logging.WARNING, logger="comp.features"):
        result = extract(images, [request_], cache_dir=cache, options=OPTIONS)
    assert result.computed_images == 6 and np.array_equal(result.features[NAME], reference)
    warnings = [record.getMessage() for record in caplog.records if record.name == "comp.features"]
    assert len(warnings) == 1 and str(entry) in warnings[0] and "\n" not in warnings[0], warnings
    assert len(list(entry.parent.glob(f"{entry.name}.bad-*"))) == 1  # kept aside for inspection
    again = extract(images, [request_], cache_dir=cache, options=OPTIONS)
    assert again.computed_images == 0


def test_a_read_only_cache_that_holds_everything_is_read_without_a_write_lock(filled, request_, tmp_path):
    images, cache, reference, _ = cache_copy(filled, tmp_path)
    for lock in cache.rglob("*.lock"):  # made when the entry was computed; reading must not make it again
        lock.unlink()
    before = sorted(path.relative_to(cache) for path in cache.rglob("*"))
    for path in [cache, *cache.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        result = extract(images, [request_], cache_dir=cache, options=OPTIONS)
    finally:
        for path in [cache, *cache.rglob("*")]:
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert result.computed_images == 0 and np.array_equal(result.features[NAME], reference)
    assert sorted(path.relative_to(cache) for path in cache.rglob("*")) == before  # no lock file was made


def test_the_same_images_copied_elsewhere_hit_the_cache(filled, request_, tmp_path):
    images, cache, reference, _ = cache_copy(filled, tmp_path)
    elsewhere = tmp_path / "copy"
    elsewhere.mkdir()
    copies = [shutil.copy(path, elsewhere / f"renamed_{index}.jpg") for index, path in enumerate(images)]
    result = extract(copies, [request_], cache_dir=cache, options=OPTIONS)
    assert result.computed_images == 0 and np.array_equal(result.features[NAME], reference)


def test_unchanged_images_are_not_read_again_to_find_their_entry(filled, request_, tmp_path, monkeypatch):
    images, cache, _, _ = cache_copy(filled, tmp_path)
    monkeypatch.setattr(extraction, "file_digest", lambda path: pytest.fail(f"{path} was hashed again"))
    assert extract(images, [request_], cache_dir=cache, options=OPTIONS).computed_images == 0
    os.utime(images[0])  # a touched file is hashed again (and found unchanged)
    monkeypatch.undo()
    assert extract(images, [request_], cache_dir=cache, options=OPTIONS).computed_images == 0
