"""Property: whatever flags and small data layouts a user tries, `comp train` either succeeds or exits 2 with one
error line (the last on stderr, at most 300 characters) and no traceback.

Drives ``comp.cli.main`` in-process on random dogs layouts (few, tiny images; missing, broken and oddly named files;
odd sample submissions) and random flag and config values. CI runs the short, derandomised ``ci`` profile; ``make
fuzz`` runs the long ``fuzz`` one (``COMP_FUZZ_PROFILE=fuzz``).
"""

import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.faults.conftest import comp_in_process

settings.register_profile("ci", max_examples=6, deadline=None, derandomize=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile("fuzz", max_examples=300, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
PROFILE = os.environ.get("COMP_FUZZ_PROFILE", "ci")
ODDITIES = ("dangling_train_link", "dangling_test_link", "unlabelled_train_file", "duplicate_test_id",
            "undecodable_train_image", "undecodable_test_image", "no_test_folder", "hidden_file")
SAMPLES = (None, "exact", "fractional_id", "repeated_id", "unknown_id", "not_csv")


@pytest.fixture(scope="module")
def shared_cache():
    with tempfile.TemporaryDirectory(prefix="comp-fuzz-cache-") as cache:
        yield cache


def tiny_jpeg(rng: np.random.Generator) -> bytes:
    return cv2.imencode(".jpg", rng.integers(0, 255, (24, 32, 3), dtype=np.uint8))[1].tobytes()


def write_layout(root: Path, layout: dict) -> Path:
    """A dogs data directory as ``layout`` describes it."""
    rng = np.random.default_rng(layout["seed"])
    data = root / "data"
    (data / "train").mkdir(parents=True)
    for animal, count in (("cat", layout["cats"]), ("dog", layout["dogs"])):
        for number in range(count):
            (data / "train" / f"{animal}.{number}.jpg").write_bytes(tiny_jpeg(rng))
    oddities = layout["oddities"]
    if "no_test_folder" not in oddities:
        (data / "test").mkdir()
        for number in range(1, layout["tests"] + 1):
            (data / "test" / f"{number}.jpg").write_bytes(tiny_jpeg(rng))
        if "dangling_test_link" in oddities:
            (data / "test" / "90.jpg").symlink_to(root / "gone.jpg")
        if "duplicate_test_id" in oddities:
            (data / "test" / "001.jpg").write_bytes(tiny_jpeg(rng))
        if "undecodable_test_image" in oddities:
            (data / "test" / "91.jpg").write_text("not a picture")
    if "dangling_train_link" in oddities:
        (data / "train" / "cat.90.jpg").symlink_to(root / "gone.jpg")
    if "unlabelled_train_file" in oddities:
        (data / "train" / "bird.1.jpg").write_bytes(tiny_jpeg(rng))
    if "undecodable_train_image" in oddities:
        (data / "train" / "dog.91.jpg").write_bytes(b"\xff\xd8 cut short")
    if "hidden_file" in oddities:
        (data / "train" / ".DS_Store").write_bytes(b"\0\1")
    ids = list(range(1, layout["tests"] + 1))
    rows = {"exact": ids, "fractional_id": [1.5, *ids[1:]], "repeated_id": ids + ids[:1], "unknown_id": ids + [77]}
    if layout["sample"] == "not_csv":
        (data / "sample_submission.csv").write_bytes(b"\x00\xff,,\n\"")
    elif layout["sample"] is not None:
        lines = ["id,label", *(f"{value},0.5" for value in rows[layout["sample"]])]
        (data / "sample_submission.csv").write_text("\n".join(lines) + "\n")
    return data


def mostly(valid, *invalid, weight: int = 5):
    """``valid`` about ``weight`` times as often as each of the ``invalid`` values."""
    return st.sampled_from([valid] * weight + list(invalid))


layouts = st.fixed_dictionaries({
    "seed": st.integers(0, 3),
    "cats": mostly(4, 0, 1, 2, 3, 6, weight=5),
    "dogs": mostly(4, 0, 1, 2, 3, 6, weight=5),
    "tests": mostly(2, 0, 1, 3, weight=5),
    "oddities": st.sets(st.sampled_from(ODDITIES), max_size=1),
    "sample": mostly("exact", *(sample for sample in SAMPLES if sample != "exact"), weight=5),
})


configs = st.fixed_dictionaries({
    "backbones": mostly('["squeezenet1_1"]', '["squeezenet1_1", "squeezenet1_1"]', '["nope"]', "[]",
                        '"squeezenet1_1"', weight=10),
    "heads": st.sampled_from(['["logistic"]'] * 6 + ['["logistic", "dense"]'] * 2 + ['["nope"]', '"logistic"']),
    "views": mostly('["orig"]', '["orig", "flip"]', '["orig", "flip"]', '["sideways"]'),
    "references": mostly("false", "true", '"no"', weight=8),
    "chunk_size": mostly("4", "0", '"big"', weight=8),
})
flag_values = st.fixed_dictionaries({}, optional={
    "--folds": mostly(2, 3, 3, 5, 1, 0, -1, weight=4),
    "--trials": mostly(0, 1, 1, 2, -2, weight=3),
    "--seed": mostly(0, 1, 2, -1, weight=2),
    "--backbones": mostly("squeezenet1_1", "squeezenet1_1,squeezenet1_1", "nope", ",", "", weight=8),
    "--time-budget": mostly("0.5", "0", "-1", "nan", "soon", weight=4),
    "--weights": mostly("squeezenet1_1=none", "squeezenet1_1", "nope=none", "=none", weight=8),
})


@pytest.mark.slow  # about 30 s for the ci profile's six examples (one of them trains)
@settings(settings.get_profile(PROFILE))
@given(layout=layouts, config=configs, flags=flag_values)
def test_train_succeeds_or_exits_2_with_one_error_line_and_no_traceback(shared_cache, layout, config, flags):
    with tempfile.TemporaryDirectory(prefix="comp-fuzz-") as scratch:
        root = Path(scratch)
        data = write_layout(root, layout)
        settings_text = "".join(f"{key} = {value}\n" for key, value in config.items())
        (root / "config.toml").write_text(f'folds = 2\n{settings_text}[weights]\nsqueezenet1_1 = "none"\n')
        argv = ["train", "dogs", "--data", str(data), "--config", str(root / "config.toml"), "--out",
                str(root / "run"), *(text for flag, value in flags.items() for text in (flag, str(value)))]
        result = comp_in_process(*argv, env={"COMP_CACHE_DIR": shared_cache})
        status, stderr = result.returncode, result.stderr
        lines = [line for line in stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("comp: error: ")]
        event("trained" if status == 0 else "refused: " + (errors[0][13:40] if errors else "?"))
        if status == 0:
            assert (root / "run" / "submission.csv").is_file() and not errors, stderr
        else:
            assert status == 2 and len(errors) == 1 and lines[-1] == errors[0], (argv, stderr)
            assert len(errors[0]) <= 300 and "Traceback" not in stderr, errors[0]
            if not (root / "run" / "scores.json").exists():
                assert not (root / "run").exists(), f"stub run left by: {errors[0]}"
