"""Read the Kaggle layout: train/cat.N.jpg, train/dog.N.jpg, test/N.jpg, sample_submission.csv."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from comp.contract import Dataset
from comp.errors import CompError

LAYOUT = "expected DIR/train/{cat,dog}.N.jpg, DIR/test/N.jpg and optionally DIR/sample_submission.csv"
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")
TRAIN_NAME = re.compile(r"^(cat|dog)\.(\d+)\.(jpe?g|png)$", re.IGNORECASE)
TEST_NAME = re.compile(r"^(\d+)\.(jpe?g|png)$", re.IGNORECASE)


def _visible_files(directory: Path) -> list[Path]:
    return sorted(path for path in directory.iterdir() if path.is_file() and not path.name.startswith("."))


def broken_links(directory: Path) -> list[str]:
    """Symbolic links in ``directory`` whose target is gone (``_visible_files`` skips them)."""
    return sorted(str(path) for path in directory.iterdir() if path.is_symlink() and not path.exists())


def read_train(directory: Path) -> pd.DataFrame:
    """id (``cat.12``), path and label (1 = dog) of every training image; an unlabelled name is an error."""
    rows = []
    for path in _visible_files(directory):
        match = TRAIN_NAME.match(path.name)
        if match is None:
            raise CompError(f"training file {path} has no label in its name ({LAYOUT})")
        animal, number = match.group(1).lower(), int(match.group(2))
        rows.append({"id": f"{animal}.{number}", "path": str(path), "label": int(animal == "dog")})
    if not rows:
        raise CompError(f"no training images in {directory} ({LAYOUT})")
    frame = pd.DataFrame(rows)
    duplicated = frame["id"][frame["id"].duplicated()]
    if len(duplicated):
        raise CompError(f"training image {duplicated.iloc[0]} appears twice in {directory} (different extensions?)")
    return frame


def read_test(directory: Path) -> pd.DataFrame:
    """id (int) and path of every test image, in id order."""
    rows = []
    for path in _visible_files(directory):
        match = TEST_NAME.match(path.name)
        if match is None:
            raise CompError(f"test file {path} is not named N.jpg ({LAYOUT})")
        rows.append({"id": int(match.group(1)), "path": str(path)})
    broken = broken_links(directory)
    if broken:
        raise CompError(f"test image {broken[0]} is a link to a file that does not exist")
    if not rows:
        raise CompError(f"no test images in {directory} ({LAYOUT})")
    frame = pd.DataFrame(rows).sort_values("id", kind="stable").reset_index(drop=True)
    repeated = frame[frame["id"].duplicated(keep=False)]
    if len(repeated):
        first, second = repeated["path"].iloc[:2]
        raise CompError(f"test images {first} and {second} both have id {repeated['id'].iloc[0]}; rename one")
    return frame


def read_sample_submission(path: Path, test: pd.DataFrame | None) -> pd.DataFrame | None:
    """The sample submission (``id,label``), checked against the test images (when given); None when absent."""
    if not path.exists():
        return None
    try:
        sample = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CompError(f"{path} is not a readable CSV: {str(error).splitlines()[0]}") from error
    if list(sample.columns) != ["id", "label"]:
        raise CompError(f"{path} has columns {list(sample.columns)}; expected ['id', 'label']")
    ids = pd.to_numeric(sample["id"], errors="coerce")
    if ids.isna().any():
        raise CompError(f"{path}: id {sample['id'][ids.isna()].iloc[0]!r} is not an integer")
    inexact = ids != ids.round()
    if inexact.any():
        raise CompError(f"{path}: id {sample['id'][inexact].iloc[0]} is not an integer")
    ids = ids.astype(int)
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise CompError(f"{path}: id {duplicated.iloc[0]} appears more than once")
    if test is None:
        return sample.assign(id=ids)
    missing = ids[~ids.isin(set(test["id"]))]
    if len(missing):
        raise CompError(f"{path}: id {missing.iloc[0]} has no image in test/")
    extra = test["id"][~test["id"].isin(set(ids))]
    if len(extra):
        raise CompError(f"{path}: test image {extra.iloc[0]} is not in the sample submission")
    return sample.assign(id=ids)


def read_dataset(data_dir: Path) -> Dataset:
    """The whole dataset, with one-line errors naming what does not fit the layout."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist ({LAYOUT}; `comp data dogs` downloads it)")
    for part in ("train", "test"):
        if not (data_dir / part).is_dir():
            raise CompError(f"{data_dir} has no {part}/ folder ({LAYOUT})")
    test = read_test(data_dir / "test")
    return Dataset(data_dir=data_dir, train=read_train(data_dir / "train"), test=test,
                   sample_submission=read_sample_submission(data_dir / "sample_submission.csv", test),
                   dropped=broken_links(data_dir / "train"))
