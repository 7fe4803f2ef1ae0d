"""The Kaggle CLI: credentials check, submission upload, competition data download and other calls (submission
history, dataset and kernel pushes)."""

from __future__ import annotations

import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections import deque
from pathlib import Path

from comp.errors import CompError

CREDENTIAL_FILES = ("kaggle.json", "access_token")
NO_CREDENTIALS = (
    "no Kaggle credentials: create an API token at https://www.kaggle.com/settings and save it as "
    "~/.kaggle/kaggle.json (chmod 600), or set KAGGLE_USERNAME and KAGGLE_KEY"
)
NO_KAGGLE_CLI = (
    "the kaggle CLI is not installed or not on PATH; install it with `pip install kaggle` "
    "(it is a dependency of comp: activate .venv)"
)


def kaggle_submit_command(slug: str, file: Path, message: str) -> list[str]:
    """The kaggle CLI call that uploads ``file`` to competition ``slug``."""
    return ["kaggle", "competitions", "submit", "-c", slug, "-f", str(file), "-m", message]


def find_kaggle() -> str:
    """Path of the ``kaggle`` executable on PATH."""
    executable = shutil.which("kaggle")
    if executable is None:
        raise CompError(NO_KAGGLE_CLI)
    return executable


def _credential_directories() -> list[Path]:
    """Where the kaggle CLI looks for its credential files, in its order."""
    xdg_config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    directories = [Path.home() / ".kaggle", xdg_config / "kaggle"]  # the CLI falls back to the XDG folder on Linux
    if os.environ.get("KAGGLE_CONFIG_DIR"):
        directories.insert(0, Path(os.environ["KAGGLE_CONFIG_DIR"]))
    return directories


def check_kaggle_credentials() -> None:
    """Fail early, with the fix, when the kaggle CLI would find no credentials."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return
    if os.environ.get("KAGGLE_API_TOKEN"):
        return
    if any((directory / name).is_file() for directory in _credential_directories() for name in CREDENTIAL_FILES):
        return
    raise CompError(NO_CREDENTIALS)


def kaggle_available() -> bool:
    """True when the kaggle CLI is on PATH and would find credentials (so a call is worth trying)."""
    try:
        find_kaggle()
        check_kaggle_credentials()
    except CompError:
        return False
    return True


def kaggle_username() -> str | None:
    """The Kaggle user name of the credentials ($KAGGLE_USERNAME, else the ``username`` in kaggle.json)."""
    if os.environ.get("KAGGLE_USERNAME"):
        return os.environ["KAGGLE_USERNAME"]
    for directory in _credential_directories():
        try:
            username = json.loads((directory / "kaggle.json").read_text(encoding="utf-8")).get("username")
        except (OSError, ValueError, AttributeError):
            continue
        if username:
            return str(username)
    return None


def kaggle_output(command: list[str], *, timeout: float = 120) -> str:
    """Run a kaggle CLI command (checked first) without echoing it and return its standard output; a one-line
    CompError with its exit code and last line when it fails or takes longer than ``timeout`` seconds."""
    executable = find_kaggle()
    check_kaggle_credentials()
    try:
        result = subprocess.run([executable, *command[1:]], capture_output=True, text=True, timeout=timeout,
                                encoding="utf-8", errors="replace")
    except subprocess.TimeoutExpired as error:
        raise CompError(f"`{shlex.join(command)}` took longer than {timeout:g} s") from error
    if result.returncode != 0:
        lines = [line.strip() for line in (result.stdout + result.stderr).splitlines() if line.strip()]
        raise CompError(f"`{shlex.join(command)}` failed (exit {result.returncode}): "
                        f"{lines[-1] if lines else '(no output)'}")
    return result.stdout


def run_kaggle(command: list[str]) -> None:
    """Run a kaggle CLI command, echoing its output; a one-line CompError with its exit and last line if it fails."""
    exit_code, last_line = _run_kaggle(command)
    if exit_code != 0:
        raise CompError(f"`{shlex.join(command)}` failed (exit {exit_code}): {last_line}")


def upload_submission(slug: str, file: Path, message: str, *, dry_run: bool = False) -> str:
    """Upload ``file`` with the kaggle CLI and return the shell-quoted command; ``dry_run`` only returns it."""
    file = Path(file)
    if not file.is_file():
        raise CompError(f"submission file {file} does not exist")
    command = kaggle_submit_command(slug, file, message)
    if dry_run:
        return shlex.join(command)
    exit_code, last_line = _run_kaggle(command)
    if exit_code != 0:
        raise CompError(
            f"kaggle upload failed (exit {exit_code}): {last_line}; the submission file {file} is unchanged"
        )
    return shlex.join(command)


def download_competition(slug: str, out_dir: Path) -> Path:
    """Download competition ``slug`` into ``out_dir`` and unpack it, nested zips included."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CompError(f"cannot create {out_dir}: {error.strerror or error}") from error
    exit_code, last_line = _run_kaggle(["kaggle", "competitions", "download", "-c", slug, "-p", str(out_dir)])
    if exit_code != 0:
        raise CompError(
            f"kaggle download failed (exit {exit_code}): {last_line}; if you have not yet, accept the rules "
            f"on https://www.kaggle.com/competitions/{slug}/rules with the account of your API token"
        )
    archive = out_dir / f"{slug}.zip"
    if not archive.is_file():
        raise CompError(f"kaggle download finished but {archive} is not there")
    pending = deque([archive])
    while pending:
        current = pending.popleft()
        extracted = _extract_zip(current, current.parent)
        current.unlink()
        pending.extend(path for path in extracted if path.suffix.lower() == ".zip" and path.is_file())
    return out_dir


def _extract_zip(archive: Path, destination: Path) -> list[Path]:
    """Unpack ``archive`` into ``destination``, refusing members that would land outside it (zip-slip)."""
    root = destination.resolve()
    try:
        with zipfile.ZipFile(archive) as opened:
            members = opened.namelist()
            for member in members:
                if not (root / member).resolve().is_relative_to(root):
                    raise CompError(f"{archive} holds {member!r}, which would be written outside {destination}")
            opened.extractall(destination)
    except zipfile.BadZipFile as error:
        raise CompError(f"{archive} is not a valid zip file: {error}") from error
    except OSError as error:
        raise CompError(f"cannot unpack {archive}: {error.strerror or error}") from error
    return [destination / member for member in members]


def _run_kaggle(command: list[str]) -> tuple[int, str]:
    """Run a kaggle CLI command (checked first), echoing its output; return its exit code and last output line."""
    executable = find_kaggle()
    check_kaggle_credentials()
    last_line = "(no output)"
    with subprocess.Popen([executable, *command[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as process:
        # newline="" splits lines at "\r" too but keeps it, so progress bars still redraw in place
        for line in io.TextIOWrapper(process.stdout, encoding="utf-8", errors="replace", newline=""):
            sys.stdout.write(line)
            sys.stdout.flush()
            if line.strip():
                last_line = line.strip()
    return process.returncode, last_line
