"""kill -9 in the middle of extraction or tuning, then --resume; two runs at once on one feature cache."""

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest

from comp.vision.features import FeatureCache
from competitions.dogs.demo import write_demo
from tests.conftest import run_comp

pytestmark = pytest.mark.slow


def start_train(*args, env):
    return subprocess.Popen([sys.executable, "-m", "comp.cli", "train", "dogs", *args], env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def kill_when(process, condition, timeout=300):
    """SIGKILL the process as soon as ``condition()`` holds; fail if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            return
        if process.poll() is not None:
            pytest.fail(f"process ended before the kill point: {process.stderr.read()[-2000:]}")
        time.sleep(0.02)
    pytest.fail("kill point never reached")


def recorded_chunks(cache: Path) -> int:
    """Chunks a resume will trust (``FeatureCache.read_chunk``: file and checksum both written). A kill between
    writing a chunk and recording its checksum leaves a file that is rightly recomputed: counting files would race."""
    features = FeatureCache(cache)
    return sum(features.read_chunk(path.parent.parent.name, int(path.stem)) is not None
               for path in (cache / "features").glob("*/chunks/*.npy"))


def feature_files(cache: Path) -> dict[str, bytes]:
    return {path.parent.name: path.read_bytes() for path in (cache / "features").glob("*/features.npy")}


def test_kill_during_extraction_then_resume_computes_only_missing_chunks_and_matches(tmp_path, fast_config):
    data = write_demo(tmp_path / "dogs", n=160, seed=0)
    cache = tmp_path / "cache"
    process = start_train("--data", str(data), "--config", str(fast_config), "--out", str(tmp_path / "run"),
                          env={"COMP_CACHE_DIR": str(cache)})
    kill_when(process, lambda: recorded_chunks(cache) >= 3)
    kept = recorded_chunks(cache)
    assert kept < 160 // 8 and not feature_files(cache)
    resumed = run_comp("train", "dogs", "--resume", str(tmp_path / "run"), env={"COMP_CACHE_DIR": str(cache)})
    assert resumed.returncode == 0, resumed.stderr
    computed = int(resumed.stderr.split(" computed in ")[0].rsplit(" ", 1)[-1])
    assert computed == 160 + 40 - kept * 8  # the chunks written before the kill were not recomputed
    reference = run_comp("train", "dogs", "--data", str(data), "--config", str(fast_config),
                         "--out", str(tmp_path / "reference"), env={"COMP_CACHE_DIR": str(tmp_path / "ref_cache")})
    assert reference.returncode == 0, reference.stderr
    assert feature_files(cache) == feature_files(tmp_path / "ref_cache")  # same keys, same bytes


def test_kill_during_tuning_then_resume_keeps_finished_trials_and_retries_the_killed_one(tmp_path, cache_env):
    data = write_demo(tmp_path / "dogs", n=40, seed=0)
    config = tmp_path / "dense.toml"
    config.write_text('backbones = ["squeezenet1_1"]\nheads = ["dense"]\nviews = ["orig"]\ntrials = 4\n'
                      'folds = 3\n[weights]\nsqueezenet1_1 = "none"\n')
    run_dir = tmp_path / "run"
    process = start_train("--data", str(data), "--config", str(config), "--out", str(run_dir), env=cache_env)
    spec_cache = run_dir / "fold_cache" / "dense@squeezenet1_1.orig"
    kill_when(process, lambda: len(list(spec_cache.glob("*/fold0/done.json"))) >= 2)
    storage = f"sqlite:///{run_dir / 'study.db'}"
    name = "dogs.dense@squeezenet1_1.orig.k3.s42"
    before = optuna.load_study(study_name=name, storage=storage).trials
    finished_before = [t.number for t in before if t.state == optuna.trial.TrialState.COMPLETE]
    killed = [t for t in before if t.state == optuna.trial.TrialState.RUNNING]
    assert len(finished_before) >= 1 and len(killed) == 1
    resumed = run_comp("train", "dogs", "--resume", str(run_dir), env=cache_env)
    assert resumed.returncode == 0, resumed.stderr
    after = optuna.load_study(study_name=name, storage=storage).trials
    assert all(after[number].state == optuna.trial.TrialState.COMPLETE for number in finished_before)
    assert after[killed[0].number].state == optuna.trial.TrialState.FAIL
    retried = [t for t in after if t.number > killed[0].number and t.params == killed[0].params]
    assert retried and retried[0].state == optuna.trial.TrialState.COMPLETE
    assert len([t for t in after if t.state.is_finished() and t.state != optuna.trial.TrialState.FAIL]) == 4


def test_two_runs_at_once_share_the_feature_cache_without_corrupting_it(tmp_path, dogs_data, fast_config):
    cache = tmp_path / "cache"
    runs = [start_train("--data", str(dogs_data), "--config", str(fast_config), "--out", str(tmp_path / f"run{i}"),
                        env={"COMP_CACHE_DIR": str(cache)}) for i in range(2)]
    for process in runs:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
    assert (tmp_path / "run0" / "submission.csv").exists() and (tmp_path / "run1" / "submission.csv").exists()
    reference = run_comp("train", "dogs", "--data", str(dogs_data), "--config", str(fast_config),
                         "--out", str(tmp_path / "reference"), env={"COMP_CACHE_DIR": str(tmp_path / "ref_cache")})
    assert reference.returncode == 0, reference.stderr
    shared, alone = feature_files(cache), feature_files(tmp_path / "ref_cache")
    assert shared == alone and len(shared) == 2
    for payload in shared.values():
        assert np.isfinite(np.load(io.BytesIO(payload))).all()
