"""Read the pathology layout: ``train/image/*.tiff`` with ``train/labels/<stem>.svg``, and ``test/image`` (+ labels).

An image without an SVG has no positive pixel; an SVG without an image is an error naming it. An optional
``patients.csv`` (``id,patient``) beside ``train/`` groups slides of one patient into one fold.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from comp.contract import Dataset
from comp.errors import CompError

LAYOUT = ("expected DIR/train/image/*.tiff with outlines in DIR/train/labels/<same stem>.svg, and DIR/test/image/"
          "*.tiff (`comp demo pathology` writes one)")
IMAGE_SUFFIXES = (".tiff", ".tif")


def image_files(image_dir: Path) -> list[Path]:
    """The TIFF images of one folder in name order; CompError when two share a stem (.tif and .tiff)."""
    images = sorted(path for path in image_dir.iterdir()
                    if path.is_file() and not path.name.startswith(".") and path.suffix.lower() in IMAGE_SUFFIXES)
    stems = [path.stem for path in images]
    duplicated = {stem for stem in stems if stems.count(stem) > 1}
    if duplicated:
        raise CompError(f"{image_dir} has two images named {sorted(duplicated)[0]} (.tif and .tiff)")
    return images


def image_table(split_dir: Path) -> pd.DataFrame:
    """id (the file stem), path and svg ('' when the image has no outline file) of every image of one split."""
    image_dir, label_dir = split_dir / "image", split_dir / "labels"
    if not image_dir.is_dir():
        return pd.DataFrame(columns=["id", "path", "svg"])
    images = image_files(image_dir)
    stems = [path.stem for path in images]
    if label_dir.is_dir():
        orphans = sorted(path for path in label_dir.glob("*.svg") if path.stem not in set(stems))
        if orphans:
            raise CompError(f"outline {orphans[0]} has no image {image_dir / (orphans[0].stem + '.tiff')}")
    rows = [{"id": path.stem, "path": str(path),
             "svg": str(label_dir / f"{path.stem}.svg") if (label_dir / f"{path.stem}.svg").is_file() else ""}
            for path in images]
    return pd.DataFrame(rows, columns=["id", "path", "svg"])


def read_patients(data_dir: Path, ids: list[str]) -> pd.Series | None:
    """The patient of each training id from ``patients.csv`` (None when the file is absent)."""
    path = data_dir / "patients.csv"
    if not path.is_file():
        return None
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CompError(f"{path} is not a readable CSV: {error}".splitlines()[0]) from None
    if list(table.columns[:2]) != ["id", "patient"]:
        raise CompError(f"{path} must have the columns id,patient; it has {','.join(table.columns)}")
    patients = dict(zip(table["id"], table["patient"]))
    missing = [identifier for identifier in ids if identifier not in patients]
    if missing:
        raise CompError(f"{path} has no patient for training image {missing[0]}")
    return pd.Series([patients[identifier] for identifier in ids])


def read_dataset(data_dir: Path) -> Dataset:
    """The training and test tables of ``data_dir``; labels are filled in by the plugin from the masks."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist ({LAYOUT})")
    train = image_table(data_dir / "train")
    if train.empty:
        raise CompError(f"no training images in {data_dir / 'train' / 'image'} ({LAYOUT})")
    train["label"] = 0
    patients = read_patients(data_dir, train["id"].tolist())
    if patients is not None:
        train["group"] = patients
    return Dataset(data_dir=data_dir, train=train, test=image_table(data_dir / "test"))
