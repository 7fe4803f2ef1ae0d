"""Run directories (``runs/<comp>/<timestamp>-<id>/``) and the atomic writes every stage uses."""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import io
import json
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd
from filelock import FileLock, Timeout

from comp.errors import CompError


def _umask() -> int:
    """The process umask, read from /proc where it is shown (Linux): setting it to read it, the only portable way,
    changes it for every thread for an instant, so a file another thread creates then could get the wrong mode."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds.

    A crash, a full disk or an exception inside the block leaves the previous file untouched.
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as error:
        raise CompError(f"cannot write {target}: {error.strerror or error}") from error
    os.close(handle)
    temporary_path = Path(temporary)
    try:
        yield temporary_path
        if temporary_path.is_file():  # mkstemp makes files private (0600); give them the usual umask mode
            os.chmod(temporary_path, 0o666 & ~_umask())
        os.replace(temporary_path, target)
    except OSError as error:
        raise CompError(f"cannot write {target}: {error.strerror or error}") from error
    finally:
        temporary_path.unlink(missing_ok=True)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Atomically write ``data`` to ``path`` (fsynced before the rename)."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    return Path(path)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Atomically write UTF-8 ``text`` to ``path``."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, payload: Any) -> Path:
    """Atomically write ``payload`` as indented JSON."""
    return write_text(path, json.dumps(payload, indent=2, sort_keys=False, default=_json_default) + "\n")


def write_array(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Atomically write a NumPy array as ``.npy``."""
    array = np.asarray(array)
    if array.dtype == object:  # strings of mixed length: store as a fixed-width unicode array, never pickled
        array = array.astype(str)
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return write_bytes(path, buffer.getvalue())


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file, naming the file if it is unreadable."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as error:
        raise CompError(f"missing file {path}") from error
    except json.JSONDecodeError as error:
        raise CompError(f"{path} is not valid JSON: {error}") from error


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in JSON")


LOCK_FILE = ".run.lock"  # held by the one process writing the run
OWNER_FILE = ".run.lock.json"  # who holds it: pid, host, command, since when
STUB_FILES = {"config.json", "log.txt", LOCK_FILE, OWNER_FILE}  # what a run holds before its first saved result


class Run:
    """One training run's directory: config, folds, OOF/test predictions, scores, study, models, log."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.created = False  # True for a fresh run (``create``) ...
        self.made_directory = False  # ... whose directory did not exist before
        self._lock: FileLock | None = None

    @property
    def id(self) -> str:
        """The directory name, ``<YYYYmmdd-HHMMSS>-<hex>``, used to name submission copies."""
        return self.path.name

    @classmethod
    def create(cls, root: str | os.PathLike, competition: str, out: str | os.PathLike | None = None) -> "Run":
        """Make a fresh run directory under ``root/<competition>/`` (or exactly ``out`` when given)."""
        if out is not None:
            path = Path(out)
            if path.exists() and any(path.iterdir()):
                raise CompError(f"--out {path} already holds files; use --resume {path} to continue that run")
        else:
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = Path(root) / competition / f"{stamp}-{secrets.token_hex(3)}"
        made_directory = not path.exists()
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise CompError(f"cannot write the run directory {path}: {error.strerror or error}") from error
        run = cls(path)
        run.created, run.made_directory = True, made_directory
        return run

    @classmethod
    def open(cls, path: str | os.PathLike, competition: str | None = None) -> "Run":
        """An existing run (for ``--resume``, ``predict``, ``report``, ``submit``); with ``competition``, one of that
        competition (config.json records it)."""
        run = cls(path)
        if not (run.path / "config.json").is_file():
            raise CompError(f"{run.path} is not a run directory (no config.json)")
        if competition is not None:
            recorded = run.config().get("competition")
            if recorded != competition:
                raise CompError(f"{run.path} is a run of {recorded}, not of {competition}; name {recorded} instead")
        return run

    def lock(self) -> None:
        """Become the run's one writer until ``unlock`` (or the process ends); a CompError naming the process that
        holds it otherwise."""
        lock = FileLock(self.file(LOCK_FILE), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            try:
                owner = json.loads(self.file(OWNER_FILE).read_text(encoding="utf-8"))
                holder = f"pid {owner['pid']} on {owner['host']} ({owner['command']}, since {owner['since']})"
            except (OSError, ValueError, KeyError, TypeError):
                holder = "another process"
            raise CompError(f"{self.path} is in use by {holder}; wait for it to finish") from None
        except OSError as error:
            if error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                return  # a run no process may write (a read-only copy, e.g. a Kaggle dataset) needs no writer's lock
            raise CompError(f"cannot lock the run {self.path}: {error.strerror or error}") from error
        self._lock = lock
        write_json(self.file(OWNER_FILE), {"pid": os.getpid(), "host": socket.gethostname(),
                                           "command": " ".join(["comp", *sys.argv[1:]])[:200],
                                           "since": _dt.datetime.now().isoformat(timespec="seconds")})

    def unlock(self) -> None:
        """Let another process write the run."""
        if self._lock is not None:
            self.file(OWNER_FILE).unlink(missing_ok=True)
            self._lock.release()
            self._lock = None

    def remove_if_stub(self) -> bool:
        """Delete a fresh run that holds nothing but its config and log (its inputs were refused before anything was
        saved): its files, and its directory when ``create`` made it; True when it was deleted."""
        if not self.created or self._lock is not None or not self.path.is_dir():
            return False
        entries = list(self.path.iterdir())
        if any(entry.name not in STUB_FILES for entry in entries):
            return False
        if self.made_directory:
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            for entry in entries:
                entry.unlink(missing_ok=True)
        return True

    def file(self, *parts: str) -> Path:
        """Path of a file inside the run."""
        return self.path.joinpath(*parts)

    def write_json(self, name: str, payload: Any) -> Path:
        return write_json(self.file(name), payload)

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.file(name)
        if default is not None and not path.exists():
            return default
        return read_json(path)

    def save_predictions(self, model_name: str, oof: np.ndarray, test: np.ndarray) -> None:
        """Store a model's out-of-fold and fold-averaged test predictions."""
        write_array(self.file("oof", f"{model_name}.npy"), oof)
        write_array(self.file("test", f"{model_name}.npy"), test)

    def load_predictions(self, model_name: str) -> tuple[np.ndarray, np.ndarray]:
        return np.load(self.file("oof", f"{model_name}.npy")), np.load(self.file("test", f"{model_name}.npy"))

    def config(self) -> dict:
        return self.read_json("config.json")

    def save_rows(self, dataset) -> None:
        """``rows.json``: id, path and label of the rows in the order of the OOF and test predictions (for reports)."""
        def columns(frame, names):
            saved = {name: frame[name].tolist() for name in names if name in frame}
            if "path" in saved:  # absolute, so the images are found from any working directory
                saved["path"] = [os.path.abspath(path) for path in saved["path"]]
            return saved

        self.write_json("rows.json", {"train": columns(dataset.train, ("id", "path", "label")),
                                      "test": columns(dataset.test, ("id", "path"))})

    def rows(self) -> dict[str, pd.DataFrame]:
        """The ``train`` and ``test`` tables saved by ``save_rows``."""
        return {part: pd.DataFrame(columns) for part, columns in self.read_json("rows.json").items()}

    def attach_log(self) -> logging.Handler:
        """Send the ``comp`` logger's records to ``log.txt`` in the run (appending on resume)."""
        handler = logging.FileHandler(self.file("log.txt"), encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logging.getLogger("comp").addHandler(handler)
        return handler


def saved_fold_models(run: Run, scores: dict, name: str) -> list[Path]:
    """The ``model`` folders a finished run saved for model ``name`` (as the engine's ``FoldRunner`` lays them out:
    ``fold_cache/<name>/<params key>/fold<k>/model``), in fold order."""
    root = run.file("fold_cache", name, scores["models"][name]["params_key"])
    directories = sorted(root.glob("fold*/model"), key=lambda path: int(path.parent.name.removeprefix("fold")))
    if not directories:
        raise CompError(f"{root} holds no saved fold model of {name}; was the run trained with this version of comp?")
    return directories
