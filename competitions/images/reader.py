"""Kaggle's usual image-classification layouts, read without code: the training table, the task, the metric and the
submission format, inferred from the files (and overridable by the config's task, metric, id_column, label_column).

Layouts: ``train/<class>/*`` folders, or ``train.csv`` with ``train/<id>.<ext>`` images, where ``train.csv`` has an
id column and one label column (class names or numbers, or space-separated labels), or one 0/1 column per label.
``test/*`` images; ``sample_submission.csv``, when present, decides the submission: one probability column per
class, or one label column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from comp.errors import CompError
from comp.metrics import get_metric
from comp.tasks import Task
from comp.vision.features import image_files

ID_COLUMNS = ("id", "image_id", "image", "image_name", "filename", "file", "name", "id_code")
REGRESSION_METRICS = ("rmse", "mae", "qwk")
LAYOUT = ("expected DIR/train/<class>/*.jpg, or DIR/train.csv with DIR/train/<id>.<jpg|png|tif>, and DIR/test/*; "
          "see `comp demo images`")


@dataclass
class ImagesLayout:
    """What was read: the tables, the task with its targets, the metric, the submission's columns, and why."""

    train: pd.DataFrame  # id, path, label (the class name or value, or the space-joined labels)
    test: pd.DataFrame  # id, path
    task: Task
    targets: np.ndarray  # (n,) class indices or values, or (n, K) 0/1 labels
    metric: str
    submission_columns: list[str]  # the sample submission's header (id column first)
    probability_columns: bool  # one probability column per class (else one label column)
    explanation: str  # one line: the task, the metric and what in the files decided them
    sample_submission: pd.DataFrame | None


def id_column(frame: pd.DataFrame, where: Path, override: str | None) -> str:
    """The id column: ``--id-column``, else a usual name, else the first column."""
    if override:
        if override not in frame.columns:
            raise CompError(f"{where} has no id column {override!r}; columns: {', '.join(frame.columns)}")
        return override
    return next((column for column in frame.columns if column.lower() in ID_COLUMNS), frame.columns[0])


def read_table(path: Path) -> pd.DataFrame:
    """A CSV with every cell a string (ids such as ``0001`` stay ``0001``)."""
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CompError(f"{path} is not a readable CSV: {str(error).splitlines()[0]}") from error


def folder_layout(train_dir: Path) -> pd.DataFrame:
    """``train/<class>/*`` -> id (``<class>/<stem>``), path, label."""
    rows = []
    for class_dir in sorted(path for path in train_dir.iterdir() if path.is_dir() and not path.name.startswith(".")):
        for stem, path in image_files(class_dir).items():
            rows.append({"id": f"{class_dir.name}/{stem}", "path": str(path), "label": class_dir.name})
    return pd.DataFrame(rows, columns=["id", "path", "label"])


def csv_layout(data_dir: Path, config: dict) -> tuple[pd.DataFrame, list[str]]:
    """``train.csv`` + ``train/<id>.<ext>`` -> (id, path and the label columns' cells; the label column names)."""
    table_path = data_dir / "train.csv"
    table = read_table(table_path)
    ids = id_column(table, table_path, config.get("id_column"))
    label_columns = [config["label_column"]] if config.get("label_column") else \
        [column for column in table.columns if column != ids]
    missing = [column for column in label_columns if column not in table.columns]
    if missing or not label_columns:
        raise CompError(f"{table_path} has no label column {missing[0] if missing else ''!r}; columns: "
                        f"{', '.join(table.columns)} (pass --label-column)")
    duplicated = table[ids][table[ids].duplicated()]
    if len(duplicated):
        raise CompError(f"{table_path}: id {duplicated.iloc[0]!r} appears more than once")
    images = image_files(data_dir / "train")
    without_image = [value for value in table[ids] if value not in images]
    if without_image:
        raise CompError(f"{table_path}: id {without_image[0]!r} has no image in {data_dir / 'train'} "
                        f"({len(without_image)} such ids; images are train/<id>.<jpg|png|tif>)")
    unlisted = sorted(set(images) - set(table[ids]))
    if unlisted:
        raise CompError(f"{data_dir / 'train'}: image {images[unlisted[0]].name} is not in {table_path.name} "
                        f"({len(unlisted)} such images)")
    for column in label_columns:
        empty = table.index[table[column].str.strip() == ""]
        if len(empty):
            raise CompError(f"{table_path}: label column {column!r} is empty for id {table[ids][empty[0]]!r} "
                            f"({len(empty)} empty cells)")
    frame = pd.DataFrame({"id": table[ids], "path": [str(images[value]) for value in table[ids]]})
    for column in label_columns:
        frame[column] = table[column].str.strip()
    return frame, label_columns


def is_number(values: pd.Series) -> bool:
    return bool(pd.to_numeric(values, errors="coerce").notna().all())


def infer_task(frame: pd.DataFrame, label_columns: list[str], config: dict, where: str) -> tuple[Task, np.ndarray, str]:
    """(task, targets, what decided it) from the label cells, ``config["task"]`` and ``config["metric"]``."""
    wanted, metric = config.get("task"), config.get("metric")
    if len(label_columns) > 1:  # one 0/1 column per label
        cells = frame[label_columns]
        if not cells.isin(["0", "1"]).all().all():
            raise CompError(f"{where}: several label columns ({', '.join(label_columns)}) must each hold 0/1 "
                            f"(pass --label-column to choose one)")
        return Task("multilabel", label_columns), cells.to_numpy(dtype=int), "one 0/1 column per label"
    cells = frame[label_columns[0]]
    if wanted == "multilabel" or (wanted is None and cells.str.contains(r"\s").any()):
        labels = sorted({label for cell in cells for label in cell.split()})
        targets = np.array([[label in cell.split() for label in labels] for cell in cells], dtype=int)
        return Task("multilabel", labels), targets, "space-separated labels in one column"
    if wanted == "regression" or (wanted is None and metric in REGRESSION_METRICS and is_number(cells)):
        if not is_number(cells):
            bad = cells[pd.to_numeric(cells, errors="coerce").isna()].iloc[0]
            raise CompError(f"{where}: regression target {bad!r} is not a number")
        why = "--task regression" if wanted else f"numeric labels scored by {metric}"
        return Task("regression"), cells.astype(float).to_numpy(), why
    names = sorted(set(cells), key=lambda name: (float(name), name) if is_number(pd.Series([name])) else (np.inf, name))
    if len(names) < 2:
        raise CompError(f"{where}: every training image has the label {names[0]!r}; a classifier needs at least 2 "
                        f"classes")
    kind = wanted or ("binary" if len(names) == 2 and set(names) == {"0", "1"} else "multiclass")
    if kind == "binary" and len(names) != 2:
        raise CompError(f"{where}: --task binary needs 2 classes, the labels have {len(names)}: {', '.join(names)}")
    index = {name: position for position, name in enumerate(names)}
    why = f"--task {wanted}" if wanted else ("labels 0/1" if kind == "binary" else f"{len(names)} class names")
    return Task(kind, names), cells.map(index).to_numpy(dtype=np.int64), why


def submission_format(sample: pd.DataFrame | None, task: Task, where: Path) -> tuple[list[str], bool, str]:
    """(the submission header, whether it has one probability column per class, why) from the sample submission."""
    if sample is None:
        columns = ["id", *task.classes] if task.kind == "multiclass" else ["id", "label"]
        return columns, task.kind == "multiclass", "no sample_submission.csv: the default format"
    columns = list(sample.columns)
    values = columns[1:]
    if len(values) == 1:
        return columns, False, "sample_submission has one label column"
    if task.kind not in ("multiclass", "multilabel") or sorted(values) != sorted(task.classes):
        extra = sorted(set(values) - set(task.classes))
        absent = sorted(set(task.classes) - set(values))
        detail = (f"column {extra[0]!r} is not a training class" if extra else
                  f"training class {absent[0]!r} has no column" if absent else f"a {task.kind} task has no classes")
        raise CompError(f"{where}: {detail} (training classes: {', '.join(task.classes) or 'none'})")
    return columns, True, "sample_submission has one probability column per class"


def readable_labels(task: Task, targets: np.ndarray) -> list[str]:
    """Each row's target as text: its class name, its space-joined labels, or its value."""
    if task.kind == "multilabel":
        return [" ".join(name for name, on in zip(task.classes, row) if on) for row in targets]
    if task.kind == "regression":
        return [f"{value:g}" for value in targets]
    return [task.classes[index] for index in targets]


def default_metric(task: Task, probability_columns: bool) -> str:
    """The usual metric of the format: multi-class log loss for probability columns, accuracy for a label column."""
    if task.kind == "multiclass":
        return "multi_logloss" if probability_columns else "accuracy"
    return task.default_metric


def read_images(data_dir: Path, config: dict) -> ImagesLayout:
    """Read ``data_dir`` in one of the usual layouts and infer the task, metric and submission format."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise CompError(f"data directory {data_dir} does not exist ({LAYOUT})")
    if (data_dir / "train.csv").is_file():
        frame, label_columns = csv_layout(data_dir, config)
        where = str(data_dir / "train.csv")
    elif (data_dir / "train").is_dir():
        frame, label_columns, where = folder_layout(data_dir / "train"), ["label"], str(data_dir / "train")
    else:
        raise CompError(f"{data_dir} has neither train.csv nor train/ ({LAYOUT})")
    if frame.empty:
        raise CompError(f"no training image in {where} ({LAYOUT})")
    task, targets, task_reason = infer_task(frame, label_columns, config, where)
    sample_path = data_dir / "sample_submission.csv"
    sample = read_table(sample_path) if sample_path.is_file() else None
    columns, probability_columns, format_reason = submission_format(sample, task, sample_path)
    metric = config.get("metric") or default_metric(task, probability_columns)
    get_metric(metric)  # an unknown name is a one-line error listing the known ones
    test_images = image_files(data_dir / "test")
    test = pd.DataFrame({"id": list(test_images), "path": [str(path) for path in test_images.values()]})
    if sample is not None:
        sample_ids = sample[columns[0]]
        missing = [value for value in sample_ids if value not in test_images]
        if missing:
            raise CompError(f"{sample_path}: id {missing[0]!r} has no image in {data_dir / 'test'} "
                            f"({len(missing)} such ids)")
        test = test.set_index("id").loc[sample_ids].reset_index()
    train = frame[["id", "path"]].copy()
    train["label"] = readable_labels(task, targets)
    metric_reason = "--metric" if config.get("metric") else format_reason
    explanation = f"{task.describe()}, metric {metric}: {metric_reason}; task from {task_reason}"
    return ImagesLayout(train=train, test=test, task=task, targets=targets, metric=metric, submission_columns=columns,
                        probability_columns=probability_columns, explanation=explanation, sample_submission=sample)
