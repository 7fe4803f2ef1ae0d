"""Run directories (``runs/<comp>/<timestamp>-<id>/``) and the atomic writes every stage uses."""

from __future__ import annotations

import contextlib
import datetime as _dt
import io
import json
import logging
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

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


class Run:
    """One training run's directory: config, folds, OOF/test predictions, scores, study, models, log."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

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
        try:
            path.mkdir(parents=True, exist_ok=True)
            probe = path / ".write-probe"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            raise CompError(f"cannot write the run directory {path}: {error.strerror or error}") from error
        return cls(path)

    @classmethod
    def open(cls, path: str | os.PathLike) -> "Run":
        """An existing run (for ``--resume``, ``predict``, ``report``, ``submit``)."""
        run = cls(path)
        if not (run.path / "config.json").is_file():
            raise CompError(f"{run.path} is not a run directory (no config.json)")
        return run

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
