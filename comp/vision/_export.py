"""``comp export``: a run's final model as a TensorFlow SavedModel, a Keras ``.keras`` file or a TFLite flatbuffer."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from comp._lazy import lazy_import
from comp.errors import CompError
from comp.io import Run, write_bytes
from comp.registry import create_competition

tf = lazy_import("tensorflow")

FORMATS = {"savedmodel": "savedmodel", "keras": "model.keras", "tflite": "model.tflite"}


def write_savedmodel(model, out: Path) -> None:
    """A SavedModel directory whose ``serve`` signature maps images to the prediction."""
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as staging:
        model.export(str(Path(staging) / "model"), format="tf_saved_model", verbose=False)
        if out.exists():
            shutil.rmtree(out)
        os.replace(Path(staging) / "model", out)


def write_keras(model, out: Path) -> None:
    """A ``.keras`` file (load it after ``comp.vision.register_custom_layers()``)."""
    if out.suffix != ".keras":
        raise CompError(f"--out {out} must end in .keras for --format keras")
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as staging:
        model.save(Path(staging) / out.name)
        os.replace(Path(staging) / out.name, out)


def write_tflite(model, out: Path) -> None:
    """A TFLite flatbuffer converted from the model's SavedModel."""
    with tempfile.TemporaryDirectory(prefix=f".{out.name}.", dir=out.parent) as staging:
        model.export(str(Path(staging) / "model"), format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(staging) / "model"))
        write_bytes(out, converter.convert())


WRITERS = {"savedmodel": write_savedmodel, "keras": write_keras, "tflite": write_tflite}


def export_run(run: Run, export_format: str, out: Path | None = None) -> Path:
    """Write the run's final model in ``export_format`` to ``out`` (default ``RUN_DIR/export/<file>``)."""
    if export_format not in WRITERS:
        raise CompError(f"unknown export format {export_format!r}; known: {', '.join(WRITERS)}")
    model = create_competition(run.config()["competition"]).export_model(run)
    out = Path(out) if out is not None else run.file("export", FORMATS[export_format])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise CompError(f"cannot write {out}: {error.strerror or error}") from error
    WRITERS[export_format](model, out)
    return out
