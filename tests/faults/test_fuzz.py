"""Random bytes and corrupted real images through the readers: a clean result or one CompError, nothing else."""

import random

import numpy as np
import pandas as pd
import pytest

from comp import CompError
from comp.vision.backbones import get_backbone, resolve_weights
from comp.vision.features import ExtractionOptions, FeatureRequest, extract
from competitions.dogs.reader import read_dataset
from tests.conftest import SHARED

CASES = 300


def real_images(limit=20):
    folder = SHARED / "data" / "dogs-vs-cats" / "train"
    if folder.is_dir():
        return sorted(folder.glob("*.jpg"))[:limit]
    import tempfile

    from competitions.dogs.demo import write_demo

    return sorted((write_demo(tempfile.mkdtemp(), n=20, seed=0) / "train").glob("*.jpg"))


def corruptions(rng: random.Random, originals):
    """Yield byte strings: pure noise, truncations, bit flips and spliced headers of real JPEGs."""
    for case in range(CASES):
        original = originals[case % len(originals)].read_bytes()
        kind = case % 4
        if kind == 0:
            yield rng.randbytes(rng.randint(0, 4096))
        elif kind == 1:
            yield original[: rng.randint(0, len(original))]
        elif kind == 2:
            data = bytearray(original)
            for _ in range(rng.randint(1, 50)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            yield bytes(data)
        else:
            yield original[:rng.randint(2, 600)] + rng.randbytes(rng.randint(0, 2048))


def test_image_pipeline_survives_random_and_corrupted_files(tmp_path):
    rng = random.Random(0)
    folder = tmp_path / "train"
    folder.mkdir()
    paths = []
    for index, payload in enumerate(corruptions(rng, real_images())):
        path = folder / f"{'cat' if index % 2 else 'dog'}.{index}.jpg"
        path.write_bytes(payload)
        paths.append(str(path))
    backbone = get_backbone("squeezenet1_1")
    request = FeatureRequest(backbone, resolve_weights(backbone, "none"), "orig")
    result = extract(paths, [request], cache_dir=tmp_path / "cache",
                     options=ExtractionOptions(batch_size=16, chunk_size=64, show_progress=False))
    matrix = result.features["squeezenet1_1:orig"]
    bad = set(result.bad_paths)
    assert matrix.shape == (CASES, 512)
    for row, path in enumerate(paths):
        assert np.isnan(matrix[row]).all() == (path in bad)  # every row is either features or a named failure
    assert 0 < len(bad) < CASES


@pytest.mark.parametrize("seed", range(3))
def test_sample_submission_reader_survives_random_bytes(tmp_path, seed):
    rng = random.Random(seed)
    (tmp_path / "train").mkdir()
    (tmp_path / "test").mkdir()
    image = real_images(1)[0].read_bytes()
    (tmp_path / "train" / "cat.1.jpg").write_bytes(image)
    (tmp_path / "test" / "1.jpg").write_bytes(image)
    valid = pd.DataFrame({"id": [1], "label": [0.5]}).to_csv(index=False).encode()
    outcomes = {"ok": 0, "error": 0}
    for _ in range(100):
        payload = bytearray(valid if rng.random() < 0.5 else rng.randbytes(rng.randint(0, 200)))
        for _ in range(rng.randint(0, 5)):
            if payload:
                payload[rng.randrange(len(payload))] = rng.randrange(256)
        (tmp_path / "sample_submission.csv").write_bytes(bytes(payload))
        try:
            read_dataset(tmp_path)
            outcomes["ok"] += 1
        except CompError as error:
            assert "\n" not in str(error)
            outcomes["error"] += 1
    assert outcomes["error"] > 0
