"""Several machines on one real PostgreSQL server (started here, never mocked): two `comp train` processes with their
own feature caches finish one study together, each trial run once, and a worker killed with -9 mid-trial leaves its
trial to the other (Optuna's heartbeat and RetryHeartbeatStaleTrialCallback)."""

import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import optuna
import psycopg
import pytest
from optuna.trial import TrialState

from tests.conftest import load_toy_competition

pytestmark = pytest.mark.slow  # about 100 s for the two tests (CI runs them; `make test` leaves them out)
STUDY = "toy.logistic.k3.s42"
FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)


def postgresql_binaries() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres (Debian's postgresql package, or any on PATH)."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    installed = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]))
    return installed[-1].parent if installed else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def postgresql_server():
    """A throwaway PostgreSQL cluster on 127.0.0.1 (trust authentication, user ``comp``); its base URL."""
    binaries = postgresql_binaries()
    if binaries is None:
        message = "no PostgreSQL server installed (Debian: apt-get install postgresql; .ci/run installs it)"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="comp-postgresql-"))  # under /tmp: reachable by the postgres user
    as_owner = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the postgres user
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
        as_owner = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", free_port()
    subprocess.run([*as_owner, str(binaries / "initdb"), "-D", str(data), "-U", "comp", "--auth=trust", "-E", "UTF8",
                    "--no-sync"], check=True, capture_output=True)
    subprocess.run([*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
                    "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300",
                    "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://comp@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_owner, str(binaries / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def database_url(postgresql_server, request):
    """A fresh database on the server for one test."""
    name = re.sub(r"\W", "_", request.node.name.lower())[:60]
    with psycopg.connect(f"{postgresql_server}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    return f"{postgresql_server}/{name}"


@pytest.fixture(scope="module")
def toy_blobs(tmp_path_factory):
    """Toy data of a given size (written by the toy plugin's own ``demo``), made once per size."""
    root = tmp_path_factory.mktemp("toy_blobs")

    def blobs(n: int):
        folder = root / str(n)
        return folder if (folder / "train.csv").exists() else load_toy_competition().demo(folder, n=n, seed=0)

    return blobs


def start_machine(tmp_path, name, data, url, toy_plugin_site, *flags):
    """`comp train toy` as one machine: its own run directory and feature cache, the shared storage."""
    machine = tmp_path / name
    machine.mkdir()
    return subprocess.Popen(
        [sys.executable, "-m", "comp.cli", "train", "toy", "--data", str(data), "--storage", url, "--folds", "3",
         "--out", str(machine / name), *flags],  # the run directory's name is the worker's name in the study
        cwd=machine, env={**os.environ, "PYTHONPATH": str(toy_plugin_site), "COMP_CACHE_DIR": str(machine / "cache")},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def finish(process):
    _, stderr = process.communicate(timeout=600)
    assert process.returncode == 0, stderr[-3000:]


def logged_trials(run: Path) -> set[int]:
    """The trial numbers of the logistic study that this run's log says it finished."""
    log = (run / "log.txt").read_text()
    return {int(number) for number in re.findall(r"comp\.tune: logistic trial (\d+):", log)}


def test_two_machines_finish_one_study_each_trial_once_and_the_best_is_the_better_run(tmp_path, toy_blobs,
                                                                                      database_url, toy_plugin_site):
    data = toy_blobs(200_000)  # trials of about a second: both machines are tuning before the study is done
    machines = [start_machine(tmp_path, f"machine{index}", data, database_url, toy_plugin_site, "--trials", "12")
                for index in range(2)]
    for process in machines:
        finish(process)
    study = optuna.load_study(study_name=STUDY, storage=database_url)
    finished = {trial.number for trial in study.get_trials(states=FINISHED)}
    assert 12 <= len(finished) <= 13  # each worker stops at 12; one may have started the 13th meanwhile
    runs = [tmp_path / f"machine{index}" / f"machine{index}" for index in range(2)]
    first, second = (logged_trials(run) for run in runs)
    assert first and second, "both machines ran trials"
    assert first.isdisjoint(second) and first | second == finished  # every trial run by exactly one machine
    scores = [json.loads((run / "scores.json").read_text())["models"]["logistic"]["score"] for run in runs]
    assert study.best_value == pytest.approx(min(scores), rel=1e-12)


def test_a_machine_killed_mid_trial_leaves_the_trial_to_the_other(tmp_path, toy_blobs, database_url,
                                                                  toy_plugin_site):
    data = toy_blobs(200_000)  # a trial long enough to be caught in the middle
    config = tmp_path / "heartbeat.toml"
    config.write_text("heartbeat_seconds = 1\ngrace_seconds = 2\n")
    flags = ("--trials", "4", "--config", str(config))
    doomed = start_machine(tmp_path, "doomed", data, database_url, toy_plugin_site, *flags)
    deadline = time.monotonic() + 300
    running = []
    while not running:
        assert time.monotonic() < deadline and doomed.poll() is None, doomed.stderr.read()[-2000:]
        try:
            trials = optuna.load_study(study_name=STUDY, storage=database_url).get_trials(
                deepcopy=False, states=(TrialState.RUNNING,))
            running = [trial for trial in trials if trial.user_attrs.get("worker") == "doomed"]
        except KeyError:  # the study does not exist yet
            pass
        time.sleep(0.05)
    os.killpg(doomed.pid, signal.SIGKILL)
    doomed.wait()
    study = optuna.load_study(study_name=STUDY, storage=database_url)
    killed = [trial for trial in study.get_trials(states=(TrialState.RUNNING,))]
    assert len(killed) == 1, "the worker was killed in the middle of a trial"
    survivor = start_machine(tmp_path, "survivor", data, database_url, toy_plugin_site, *flags)
    finish(survivor)
    trials = optuna.load_study(study_name=STUDY, storage=database_url).trials
    assert trials[killed[0].number].state == TrialState.FAIL
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        retries = [trial for trial in trials if trial.number != killed[0].number and
                   optuna.storages.RetryHeartbeatStaleTrialCallback.retried_trial_number(trial) == killed[0].number]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == killed[0].params
    assert retries[0].user_attrs["worker"] == "survivor"
    assert retries[0].number in logged_trials(tmp_path / "survivor" / "survivor")
    assert len([trial for trial in trials if trial.state in FINISHED]) >= 4
