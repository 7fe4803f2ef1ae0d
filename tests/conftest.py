"""Shared test helpers: paths, the installed toy plugin, running the ``comp`` CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
TOY_PLUGIN_SOURCE = REPO_ROOT / "tests" / "fixtures" / "toy_plugin"


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


@pytest.fixture
def toy_competition():
    """The toy plugin class imported from the fixture source (in-process tests of the shared loop)."""
    sys.path.insert(0, str(TOY_PLUGIN_SOURCE))
    try:
        from comp_toy_plugin import ToyCompetition
    finally:
        sys.path.remove(str(TOY_PLUGIN_SOURCE))
    return ToyCompetition()


def install_fake_kaggle(directory: Path, body: str = "") -> Path:
    """Write an executable ``kaggle`` Python script that records its argv to ``directory/argv.json``."""
    directory.mkdir(parents=True, exist_ok=True)
    script = directory / "kaggle"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, sys, pathlib\n"
        f"pathlib.Path({str(directory / 'argv.json')!r}).write_text(json.dumps(sys.argv[1:]))\n" + body
    )
    script.chmod(0o755)
    return script
