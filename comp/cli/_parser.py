"""The ``comp`` command line: verbs and flags, with one-line usage errors."""

from __future__ import annotations

import argparse
from pathlib import Path

from comp.errors import CompError


class OneLineParser(argparse.ArgumentParser):
    """argparse whose usage errors are one line on stderr that lists the valid flags.

    Abbreviated flags are refused: a typo such as ``--fold`` must not silently become ``--folds``.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:
        flags = sorted({option for action in self._actions for option in action.option_strings
                        if option.startswith("--") and option != "--help"})
        hint = f" (valid flags: {' '.join(flags)})" if "unrecognized arguments" in message and flags else ""
        verb = self.prog.removeprefix("comp").strip()
        raise CompError(f"{verb + ': ' if verb else ''}{message}{hint}")


def add_train_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("competition", help="registered competition name (see `comp list`)")
    parser.add_argument("--data", help="data directory in the competition's layout")
    parser.add_argument("--out", help="run directory to create (default runs/<comp>/<timestamp>-<id>)")
    parser.add_argument("--config", type=Path, help="TOML file overriding the competition's defaults")
    parser.add_argument("--folds", type=int, help="number of cross-validation folds")
    parser.add_argument("--trials", type=int, help="Optuna trials per tuned model (0: defaults only)")
    parser.add_argument("--seed", type=int, help="seed for folds, sampler and networks")
    parser.add_argument("--backbones", type=lambda text: [n for n in text.split(",") if n],
                        help="comma-separated backbone names (see `comp list --backbones`)")
    parser.add_argument("--weights", action="append", metavar="NAME=PATH",
                        help="weights of one backbone: a file, 'imagenet' or 'none' (repeatable)")
    parser.add_argument("--epochs", type=int, help="epochs for end-to-end networks")
    parser.add_argument("--time-budget", type=float, metavar="MIN", help="minutes for tuning, shared by the models")
    parser.add_argument("--storage", metavar="URL", help="Optuna storage URL shared by workers (default: study.db in the run)")
    parser.add_argument("--resume", type=Path, metavar="RUN_DIR", help="continue a killed run")
    parser.add_argument("--allow-bad-test", action="store_true", default=None,
                        help="predict unreadable test images instead of stopping")
    parser.add_argument("--mixed-precision", action="store_true", default=None, help="float16 compute on GPUs")
    parser.add_argument("--xla", action="store_true", default=None, help="XLA-compile feature extraction and fine-tuning")
    parser.add_argument("--finetune", action="store_true", default=None,
                        help="also fine-tune a backbone end to end (image classification; see finetune_params)")
    parser.add_argument("--pseudo-labels", action="store_true", default=None,
                        help="fine-tune a second round on test images pseudo-labelled by each fold's network")
    parser.add_argument("--task", choices=("binary", "multiclass", "multilabel", "regression"),
                        help="the task type, when the data leaves it ambiguous (images)")
    parser.add_argument("--metric", help="the metric by name (comp.metrics.list_metrics(); images)")
    parser.add_argument("--id-column", help="the id column of train.csv (images)")
    parser.add_argument("--label-column", help="the label column of train.csv (images)")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="comp", description="Win image competitions: k-fold, Optuna, fusion, submission.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=OneLineParser, metavar="VERB")
    parser.verb_parsers = verbs.choices

    listing = verbs.add_parser("list", help="competitions and their data status")
    listing.add_argument("--backbones", action="store_true", help="list the registered backbones instead")

    demo = verbs.add_parser("demo", help="write a small generated dataset (and with --train, train on it)")
    demo.add_argument("competition", nargs="?", help="competition (default: every registered one)")
    demo.add_argument("--out", type=Path, default=Path("demo"), help="output directory")
    demo.add_argument("--n", type=int, default=None, help="number of training images")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--train", action="store_true", help="then train, fuse, submit and print a summary table")
    demo.add_argument("--task", help="the task type to draw, for competitions that draw several (images: multiclass, "
                                      "multilabel, regression)")

    data = verbs.add_parser("data", help="fetch the real data with the kaggle CLI")
    data.add_argument("competition")
    data.add_argument("--out", type=Path, help="target directory (default: the config's data directory)")

    train = verbs.add_parser("train", help="k-fold fit, tune, fuse and write the submission")
    add_train_flags(train)

    predict = verbs.add_parser("predict", help="apply a trained run to new data")
    predict.add_argument("competition")
    predict.add_argument("--run", type=Path, required=True, metavar="RUN_DIR")
    predict.add_argument("--data", type=Path, required=True, metavar="DIR")
    predict.add_argument("--out", type=Path, metavar="FILE", help="default RUN_DIR/predictions.csv")
    predict.add_argument("--overwrite", action="store_true", help="replace --out when it exists")

    submit = verbs.add_parser("submit", help="upload a submission with the kaggle CLI")
    submit.add_argument("competition")
    source = submit.add_mutually_exclusive_group()
    source.add_argument("--run", type=Path, metavar="RUN_DIR", help="default: the newest run of the competition")
    source.add_argument("--file", type=Path, metavar="FILE")
    submit.add_argument("-m", "--message", help="submission message (default: run id and OOF score)")
    submit.add_argument("--data", type=Path, metavar="DIR",
                        help="the competition's data, for its sample submission (default: the run's or the config's)")
    submit.add_argument("--config", type=Path, metavar="FILE.toml",
                        help="config over the competition's defaults (submissions_root, daily_submissions, data)")
    submit.add_argument("--force", action="store_true",
                        help="upload even a file that fails the guard or was submitted before (and say so)")
    submit.add_argument("--dry-run", action="store_true", help="check, then print the kaggle command instead of "
                                                               "running it")

    submissions = verbs.add_parser("submissions", help="the submission ledger: CV vs public LB, quota left today")
    submissions.add_argument("competition")
    submissions.add_argument("--config", type=Path, metavar="FILE.toml",
                             help="config over the competition's defaults (submissions_root, daily_submissions)")
    submissions.add_argument("--refresh", action=argparse.BooleanOptionalAction, default=None,
                             help="fetch the public scores with the kaggle CLI first (default: when it is available)")

    bundle = verbs.add_parser("bundle", help="a Kaggle dataset and offline kernel that predict with a run")
    bundle.add_argument("run", type=Path, metavar="RUN_DIR")
    bundle.add_argument("--out", type=Path, metavar="DIR", help="where to write dataset/ and kernel/ "
                                                                "(default RUN_DIR/bundle)")
    bundle.add_argument("--test-size", type=int, metavar="N",
                        help="test images to estimate the kernel's wall time for (default: the run's test set)")
    bundle.add_argument("--owner", metavar="USER", help="Kaggle user owning the dataset and kernel "
                                                        "(default: the credentials' user)")
    pushing = bundle.add_mutually_exclusive_group()
    pushing.add_argument("--push", action="store_true",
                         help="upload with kaggle datasets create/version and kaggle kernels push")
    pushing.add_argument("--dry-run", action="store_true", help="print those kaggle commands instead")

    report = verbs.add_parser("report", help="write report.html for a run")
    report.add_argument("run", type=Path, metavar="RUN_DIR")

    export = verbs.add_parser("export", help="write a run's final model as one network (SavedModel, .keras, TFLite)")
    export.add_argument("run", type=Path, metavar="RUN_DIR")
    export.add_argument("--format", required=True, choices=("savedmodel", "keras", "tflite"),
                        help="savedmodel: a TensorFlow SavedModel directory (signature `serve`); keras: a .keras "
                             "file (load after comp.vision.register_custom_layers()); tflite: a TFLite flatbuffer")
    export.add_argument("--out", type=Path, metavar="PATH",
                        help="where to write (default RUN_DIR/export/savedmodel, model.keras or model.tflite)")

    bench = verbs.add_parser("bench", help="measure speed and memory, as JSON")
    bench.add_argument("competition", nargs="?")
    bench.add_argument("--out", type=Path, metavar="FILE.json")
    bench.add_argument("--data", type=Path, help="data directory to measure on")
    return parser
