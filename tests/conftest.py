"""Shared test helpers: paths, the installed toy plugin, running the ``comp`` CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
TOY_PLUGIN_SOURCE = REPO_ROOT / "tests" / "fixtures" / "toy_plugin"


SHARED_RUN_FIXTURES = ("dogs_demo_run", "captcha_demo_run", "pathology_demo_run")  # session-scoped trained runs


def pytest_collection_modifyitems(config, items):
    """Longest first, then the rest in file order: slow tests by their ``slow(minutes=...)`` estimate, so that under
    pytest-xdist (CI) the longest do not start last and end the run on one worker alone. Tests that share one of
    the session's trained runs form one xdist group, so that a single worker trains it once."""
    for item in items:
        shared = [name for name in SHARED_RUN_FIXTURES if name in item.fixturenames]
        if shared:
            item.add_marker(pytest.mark.xdist_group(shared[0]))

    def minutes(item) -> float:
        slow = item.get_closest_marker("slow")
        return -1.0 if slow is None else float(slow.kwargs.get("minutes", 0.0))

    items.sort(key=minutes, reverse=True)  # stable: equal estimates keep file order


def shared_path(*parts: str) -> Path:
    """A path in ../shared, skipping the test (with the reason) on a clone that does not have it."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (../shared is only beside developer and CI checkouts)")
    return path


@pytest.fixture(scope="session")
def toy_plugin_site(tmp_path_factory) -> Path:
    """The toy plugin pip-installed into its own target directory, as a user would install a plugin."""
    source = tmp_path_factory.mktemp("toy_source") / "toy_plugin"
    shutil.copytree(TOY_PLUGIN_SOURCE, source)  # pip builds in place: keep the checkout clean
    target = tmp_path_factory.mktemp("toy_site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                    "--target", str(target), str(source)], check=True, capture_output=True)
    return target


def run_comp(*args: str, cwd: Path | None = None, env: dict | None = None, timeout: float = 900):
    """Run ``comp ARGS`` in a fresh interpreter; returns the CompletedProcess (never raises on exit codes)."""
    environment = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "comp.cli", *args], cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=timeout)


def load_toy_competition():
    """A ToyCompetition imported from the fixture source, without installing it."""
    sys.path.insert(0, str(TOY_PLUGIN_SOURCE))
    try:
        from comp_toy_plugin import ToyCompetition
    finally:
        sys.path.remove(str(TOY_PLUGIN_SOURCE))
    return ToyCompetition()


@pytest.fixture
def toy_competition():
    """The toy plugin (in-process tests of the shared loop)."""
    return load_toy_competition()


def kaggle_environment(fake_bin: Path) -> dict:
    """PATH holding only the fake ``kaggle`` directory and the system ones, with credentials in the environment."""
    return {"PATH": os.pathsep.join([str(fake_bin), "/usr/bin", "/bin"]), "KAGGLE_USERNAME": "someone",
            "KAGGLE_KEY": "secret"}


def install_fake_kaggle(directory: Path, body: str = "") -> Path:
    """Write an executable ``kaggle`` Python script that records its argv to ``directory/argv.json`` (the last call)
    and appends it to ``directory/calls.jsonl`` (every call, see ``kaggle_calls``), then runs ``body``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "kaggle"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(directory / 'argv.json')!r}).write_text(json.dumps(sys.argv[1:]))\n"
        f"with open({str(directory / 'calls.jsonl')!r}, 'a') as calls: calls.write(json.dumps(sys.argv[1:]) + '\\n')\n"
        + body
    )
    script.chmod(0o755)
    return script


def kaggle_calls(directory: Path) -> list[list[str]]:
    """The arguments of every call of the fake ``kaggle`` in ``directory``, in order."""
    path = directory / "calls.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


TINY_CAPTCHA_CONFIG = """\
folds = 2
trials = 0
epochs = 1
steps_per_epoch = 2
generator_workers = 0
validation_images = 4
validation_size = 8
[crnn]
conv_widths = "4-8-8"
dense_units = 8
gru_units = 8
gru_layers = 1
batch_size = 4
"""


@pytest.fixture
def cache_env(tmp_path):
    """Environment for a ``comp`` subprocess with its own feature cache in the test's directory."""
    return {"COMP_CACHE_DIR": str(tmp_path / "cache")}


def train_demo_run(root: Path, competition: str, data: Path, *flags: str, config: str | None = None) -> Path:
    """Train ``competition`` on demo ``data`` into ``root/run`` (with ``config`` as a TOML file when given)."""
    if config is not None:
        (root / "tiny.toml").write_text(config)
        flags = ("--config", str(root / "tiny.toml"), *flags)
    result = run_comp("train", competition, "--data", str(data), *flags, "--out", str(root / "run"),
                      env={"COMP_CACHE_DIR": str(root / "cache")}, cwd=root)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"{competition}: final" in result.stdout
    return root / "run"


@pytest.fixture(scope="session")
def dogs_demo_run(tmp_path_factory) -> Path:
    """One small trained dogs run on demo images (random-weight SqueezeNet, 2 folds, 2 trials), shared by tests."""
    from competitions.dogs.demo import write_demo

    root = tmp_path_factory.mktemp("dogs_demo")
    return train_demo_run(root, "dogs", write_demo(root / "data", n=40, seed=0), "--backbones", "squeezenet1_1",
                          "--weights", "squeezenet1_1=none", "--folds", "2", "--trials", "2")


@pytest.fixture(scope="session")
def captcha_demo_run(tmp_path_factory) -> Path:
    """One small trained captcha run on demo images (a tiny CRNN, 2 folds, one short epoch), shared by tests."""
    from competitions.captcha.demo import write_demo

    root = tmp_path_factory.mktemp("captcha_demo")
    return train_demo_run(root, "captcha", write_demo(root / "data", n=8, seed=0, n_test=3),
                          config=TINY_CAPTCHA_CONFIG)


def report_images(report: Path) -> list:
    """Every image embedded in a report, decoded (None for one that does not decode)."""
    import base64
    import re

    import cv2
    import numpy as np

    encoded = re.findall(r'src="data:image/png;base64,([^"]+)"', report.read_text(encoding="utf-8"))
    return [cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_COLOR) for text in encoded]
