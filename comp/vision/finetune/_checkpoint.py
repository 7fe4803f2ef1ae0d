"""Per-epoch checkpoints of a fold's fine-tuning, so a fit killed (even by kill -9) resumes at its last finished
epoch: the network's weights, the optimizer's state, the best weights so far and the bookkeeping (phase, epoch,
early-stopping counters, history). The files of an epoch are written first, under names holding the epoch, and
``state.json`` (written atomically) names them last: a kill between the two leaves the previous epoch's state whole.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from comp.io import write_bytes, write_json

STATE_FILE = "state.json"


@dataclass
class FitState:
    """Where a fold's fine-tuning is: ``phase`` (1 head, 2 backbone too), the next global ``epoch``, epochs, steps
    and seconds done in the phase, the best inner-split loss, its epoch and the epochs since, the per-epoch history."""
    phase: int = 1
    epoch: int = 0
    phase_epochs: int = 0
    phase_steps: int = 0
    phase_seconds: float = 0.0
    seconds: float = 0.0
    best_loss: float = math.inf
    best_epoch: int = -1
    waited: int = 0
    history: dict = field(default_factory=dict)

    def record(self, logs: dict, seconds: float) -> bool:
        """Add one epoch's logs; True when its inner-split loss is the best so far, or always when there is none."""
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        self.history.setdefault("phase", []).append(float(self.phase))
        if "val_loss" in logs:
            loss = float(logs["val_loss"])
            improved = loss < self.best_loss
        else:  # no inner split: nothing to stop on, so each epoch's weights replace the last (the last is kept)
            loss, improved = float(logs.get("loss", math.inf)), True
        if improved:
            self.best_loss, self.best_epoch, self.waited = loss, self.epoch, 0
        else:
            self.waited += 1
        self.epoch += 1
        self.phase_epochs += 1
        self.seconds = seconds
        return improved

    def next_phase(self) -> None:
        self.phase, self.phase_epochs, self.phase_steps, self.phase_seconds, self.waited = self.phase + 1, 0, 0, 0.0, 0


class Checkpoint:
    """The checkpoint files of one fold in ``directory`` (None: no checkpoints, e.g. outside a run); best weights are
    also kept in memory."""

    def __init__(self, directory: Path | None):
        self.directory = Path(directory) if directory is not None else None
        self.best_weights: list[np.ndarray] | None = None

    def load(self) -> FitState | None:
        """The saved state, or None when there is none (a fresh fit)."""
        if self.directory is None or not (self.directory / STATE_FILE).exists():
            return None
        saved = json.loads((self.directory / STATE_FILE).read_text(encoding="utf-8"))
        return FitState(**saved["state"])

    def save(self, state: FitState, model, *, improved: bool) -> None:
        """Keep the best weights (when ``improved``) and, with a directory, write the epoch's files then the state."""
        if improved:
            self.best_weights = [np.array(weight) for weight in model.get_weights()]
        if self.directory is None:
            return
        tag = f"epoch{state.epoch:04d}"
        files = {"weights": f"weights-{tag}.npz", "optimizer": f"optimizer-{tag}.npz",
                 "best": f"best-{tag}.npz" if improved else self.saved_files().get("best")}
        write_arrays(self.directory / files["weights"], model.get_weights())
        write_arrays(self.directory / files["optimizer"], [variable.numpy() for variable in model.optimizer.variables])
        if improved:
            write_arrays(self.directory / files["best"], self.best_weights)
        write_json(self.directory / STATE_FILE, {"state": asdict(state), "files": files})
        for path in self.directory.glob("*.npz"):
            if path.name not in files.values():
                path.unlink(missing_ok=True)

    def saved_files(self) -> dict:
        path = self.directory / STATE_FILE
        return json.loads(path.read_text(encoding="utf-8"))["files"] if path.exists() else {}

    def restore(self, model, *, optimizer: bool) -> None:
        """Load the saved weights into ``model`` (compiled for the saved phase), its optimizer's state too when
        ``optimizer``; and the best weights."""
        files = self.saved_files()
        model.set_weights(read_arrays(self.directory / files["weights"]))
        if files.get("best"):
            self.best_weights = read_arrays(self.directory / files["best"])
        if optimizer:  # built by compile_model, so its variables are in the saved order
            for variable, value in zip(model.optimizer.variables, read_arrays(self.directory / files["optimizer"])):
                variable.assign(value)

    def remove(self) -> None:
        """Delete the files once the fold's model is saved by the fold runner's cache."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            with contextlib.suppress(OSError):  # the parameters' folder too, once its last fold is done
                self.directory.parent.rmdir()


def write_arrays(path: Path, arrays: list) -> None:
    """Arrays in order, in one .npz written atomically."""
    buffer = io.BytesIO()
    np.savez(buffer, *[np.asarray(array) for array in arrays])
    write_bytes(path, buffer.getvalue())


def read_arrays(path: Path) -> list[np.ndarray]:
    """The arrays ``write_arrays`` wrote, in order."""
    with np.load(path) as saved:
        return [saved[f"arr_{index}"] for index in range(len(saved.files))]
