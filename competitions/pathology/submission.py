"""The submission: a 0/255 PNG mask per test image at its original size, ``submission.csv`` and a zip of both.

``cancer_probability`` is the maximum of the Gaussian-smoothed probability map (a lone hot pixel does not make
a slide positive); ``cancer_fraction`` is the share of the image's pixels marked. The folder
``<submissions_root>/pathology/<run-id>/`` and ``<run-id>.zip`` beside it are never overwritten.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pandas as pd

from comp.errors import CompError
from comp.io import FLOAT_FORMAT, read_submission_file, validate_submission, write_bytes, write_text
from competitions.pathology.masks import resize_image
from competitions.pathology.slides import Geometry

COLUMNS = ["id", "cancer_probability", "cancer_fraction"]


def full_size_maps(test_prediction: np.ndarray, sizes: list[tuple[int, int]], output_scale: float):
    """Yield each test image's probability map cut from the padded array and resized to its original size."""
    geometry = Geometry(scale=output_scale)
    for row, size in enumerate(sizes):
        height, width = geometry.working_size(size)
        probabilities = np.asarray(test_prediction[row, :height, :width], dtype=np.float32)
        yield np.clip(resize_image(probabilities, size), 0, 1)


def mask_png(mask: np.ndarray) -> bytes:
    """A 0/1 mask encoded as an 8-bit 0/255 PNG."""
    ok, encoded = cv2.imencode(".png", (mask > 0).astype(np.uint8) * 255)
    if not ok:
        raise CompError("OpenCV could not encode a mask as PNG")
    return encoded.tobytes()


def image_summary(probabilities: np.ndarray, mask: np.ndarray, smoothing_sigma: float) -> tuple[float, float]:
    """(image-level probability = max of the smoothed map, fraction of pixels marked)."""
    smoothed = cv2.GaussianBlur(probabilities, (0, 0), smoothing_sigma) if smoothing_sigma > 0 else probabilities
    return float(np.clip(smoothed.max(), 0, 1)), float(mask.mean())


def write_masks_and_table(ids: list[str], test_prediction: np.ndarray, sizes: list[tuple[int, int]], *,
                          output_scale: float, smoothing_sigma: float, mask_dir: Path) -> pd.DataFrame:
    """Write every ``<id>.png`` into ``mask_dir`` (thresholded at 0.5) and return the validated table."""
    rows = []
    for identifier, probabilities in zip(ids, full_size_maps(test_prediction, sizes, output_scale)):
        mask = probabilities >= 0.5
        write_bytes(mask_dir / f"{identifier}.png", mask_png(mask))
        rows.append((identifier, *image_summary(probabilities, mask, smoothing_sigma)))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    check_table(frame)
    return frame


def check_table(frame: pd.DataFrame) -> None:
    """The CSV's rules: header ``id,cancer_probability,cancer_fraction``, unique ids, both values finite in [0, 1]."""
    validate_submission(frame, columns=COLUMNS, id_column="id", value_range=(0.0, 1.0), value_columns=COLUMNS[1:])


def check_submission_file(path: Path) -> None:
    """``check_table`` on a submission CSV, or on a submission zip's ``submission.csv`` together with a
    ``masks/<id>.png`` in the zip for every row (a one-line CompError naming the first problem)."""
    path = Path(path)
    if path.suffix.lower() != ".zip":
        check_table(read_submission_file(path))
        return
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "submission.csv" not in names:
                raise CompError(f"{path} has no submission.csv")
            with archive.open("submission.csv") as table:
                frame = read_submission_file(table)
    except zipfile.BadZipFile as error:
        raise CompError(f"{path} is not a valid zip file: {error}") from error
    check_table(frame)
    missing = next((identifier for identifier in frame["id"] if f"masks/{identifier}.png" not in names), None)
    if missing is not None:
        raise CompError(f"{path} has no masks/{missing}.png for the submission row of id {missing}")


def publish(run_dir: Path, submissions_root: Path, run_id: str) -> tuple[Path, Path]:
    """Copy the run's masks/ and submission.csv to a fresh ``<root>/pathology/<run-id>[-k]/`` and zip them beside it."""
    parent = Path(submissions_root) / "pathology"
    try:
        parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{run_id}.", dir=parent))
    except OSError as error:
        raise CompError(f"cannot write under {parent}: {error.strerror or error}") from error
    try:
        shutil.copytree(run_dir / "masks", staging / "masks")
        shutil.copy2(run_dir / "submission.csv", staging / "submission.csv")
        attempt, name = 1, run_id
        while True:
            target = parent / name
            if not target.exists() and not (parent / f"{name}.zip").exists():
                try:
                    os.rename(staging, target)
                    break
                except OSError:
                    if not target.exists():
                        raise
            attempt += 1
            name = f"{run_id}-{attempt}"
        archive = parent / f"{name}.zip"
        partial = parent / f".{name}.zip.tmp"
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            bundle.write(target / "submission.csv", "submission.csv")
            for mask in sorted((target / "masks").glob("*.png")):
                bundle.write(mask, f"masks/{mask.name}")
        os.replace(partial, archive)
    except OSError as error:
        raise CompError(f"cannot write the submission under {parent}: {error.strerror or error}") from error
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target, archive


def write_masks_and_csv(csv_path: Path, mask_dir: Path, ids: list[str], test_prediction: np.ndarray,
                        sizes: list[tuple[int, int]], *, output_scale: float, smoothing_sigma: float) -> Path:
    """A fresh ``mask_dir`` of ``<id>.png`` and the ``id,cancer_probability,cancer_fraction`` CSV; returns the CSV."""
    try:
        if mask_dir.exists():
            shutil.rmtree(mask_dir)
    except OSError as error:
        raise CompError(f"cannot replace the mask folder {mask_dir}: {error.strerror or error}") from error
    frame = write_masks_and_table(ids, test_prediction, sizes, output_scale=output_scale,
                                  smoothing_sigma=smoothing_sigma, mask_dir=mask_dir)
    mask_dir.mkdir(parents=True, exist_ok=True)  # present even when there are no images
    return write_text(csv_path, frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n"))


def write_submission(run_dir: Path, ids: list[str], test_prediction: np.ndarray, sizes: list[tuple[int, int]], *,
                     output_scale: float, smoothing_sigma: float, submissions_root: Path, run_id: str):
    """Masks and CSV in the run, then the published copy and zip; returns (run CSV, zip)."""
    csv_path = write_masks_and_csv(Path(run_dir) / "submission.csv", Path(run_dir) / "masks", ids, test_prediction,
                                   sizes, output_scale=output_scale, smoothing_sigma=smoothing_sigma)
    _, archive = publish(Path(run_dir), submissions_root, run_id)
    return csv_path, archive
