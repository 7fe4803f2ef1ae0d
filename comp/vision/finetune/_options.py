"""The fine-tuning settings of a run, from its config: ``finetune = true`` (or --finetune), ``pseudo_labels = true``
(or --pseudo-labels) and the optional ``[finetune_params]`` table (its keys below); each bad value is one line."""

from __future__ import annotations

from dataclasses import dataclass

from comp.errors import CompError
from comp.schedules import SCHEDULES, fold_seconds
from comp.vision.views import check_views

# The first trial (and the only one without tuning): two head epochs at 1e-3, then ten epochs of the whole network at
# 1e-4 with a cosine decay after a 10% warm-up, medium augmentation, early stopping after three epochs, hard targets,
# no mixup.
FINETUNE_START = {"head_epochs": 2, "epochs": 10, "head_learning_rate": 1e-3, "learning_rate": 1e-4, "unfreeze": "all",
                  "schedule": "cosine", "warmup": 0.1, "strength": 0.5, "dropout": 0.2, "batch_size": 32,
                  "patience": 3, "label_smoothing": 0.0, "mixup": 0.0}
SETTINGS = {"backbones", "input_size", "views", "colour_jitter", "validation_fraction", "workers", "pseudo_accuracy",
            "time_share", "trials", "seeds"}
TIME_SHARE = 0.8  # of --time-budget, what fine-tuning gets (the feature heads are cheap)


@dataclass(frozen=True)
class FinetuneOptions:
    """What every fold's fit shares: the starting ``params``, input size (None: the backbone's), test-time
    ``views``, colour jitter, the inner split's share (0: none, the last epoch kept), tf.data workers (None:
    automatic), the accuracy asked of pseudo-labels, GPU options, the Optuna trials of each round-1 network
    (``finetune_params.trials``, default the run's --trials: one fine-tuned fit costs as much as hundreds of head
    trials), the ``seeds`` whose networks each fold's model averages, and each network's seconds under --time-budget
    (None: no limit)."""
    params: dict
    trials: int = 0
    input_size: tuple[int, int] | None = None
    views: tuple[str, ...] = ("orig", "flip")
    colour_jitter: bool = False
    validation_fraction: float = 0.15
    workers: int | None = None
    pseudo_accuracy: float = 0.95
    mixed_precision: bool = False
    xla: bool = False
    seeds: int = 1
    fold_seconds: float | None = None


def check_params(params: dict, where: str) -> dict:
    """``params`` with every key known and every value in range; a CompError naming the first bad one."""
    unknown = sorted(set(params) - set(FINETUNE_START))
    if unknown:
        raise CompError(f"{where}: unknown fine-tuning parameter {unknown[0]!r}; known: {', '.join(FINETUNE_START)}")
    if params["unfreeze"] != "all" and not (isinstance(params["unfreeze"], int) and params["unfreeze"] >= 0):
        raise CompError(f"{where}: unfreeze is {params['unfreeze']!r}; it must be \"all\" or a number of blocks")
    if params["schedule"] not in SCHEDULES:
        raise CompError(f"{where}: schedule {params['schedule']!r} is not one of {', '.join(SCHEDULES)}")
    if not 0.0 <= float(params["strength"]) <= 1.0:
        raise CompError(f"{where}: strength is {params['strength']}; it must be in [0, 1]")
    if not 0.0 <= float(params["label_smoothing"]) < 1.0:
        raise CompError(f"{where}: label_smoothing is {params['label_smoothing']}; it must be in [0, 1)")
    if float(params["mixup"]) < 0.0:
        raise CompError(f"{where}: mixup is {params['mixup']}; it must be at least 0 (the Beta alpha; 0: no mixup)")
    for key in ("head_epochs", "epochs", "patience"):
        if int(params[key]) < 0:
            raise CompError(f"{where}: {key} is {params[key]}; it must be at least 0")
    if int(params["batch_size"]) < 1:
        raise CompError(f"{where}: batch_size is {params['batch_size']}; it must be at least 1")
    return params


def finetune_options(config: dict, n_backbones: int, pseudo: bool) -> FinetuneOptions:
    """The options of ``config`` for ``n_backbones`` fine-tuned networks, each with a pseudo-label round when
    ``pseudo``: their share of --time-budget is split evenly over every fit, a fit being one seed's network in one
    fold of one trial (round 2 refits its round 1's parameters once)."""
    table = dict(config.get("finetune_params") or {})
    where = "`finetune_params` in the config"
    params = dict(FINETUNE_START)
    if config.get("epochs"):
        params["epochs"] = int(config["epochs"])
    params.update({key: value for key, value in table.items() if key not in SETTINGS})
    check_params(params, where)
    views = check_views(table.get("views", ("orig", "flip")), where)
    size = table.get("input_size")
    if size is not None and (len(size) != 2 or min(size) < 32):
        raise CompError(f"{where}: input_size {size} must be [height, width], each at least 32")
    trials = int(table.get("trials", config.get("trials") or 0))
    if trials < 0:
        raise CompError(f"{where}: trials is {trials}; it must be at least 0 (0: the first trial's values only)")
    seeds = table.get("seeds", 1)
    if isinstance(seeds, bool) or not isinstance(seeds, int) or seeds < 1:
        raise CompError(f"{where}: seeds is {seeds!r}; it must be a whole number of at least 1 (networks per fold)")
    fraction = table.get("validation_fraction", 0.15)
    if isinstance(fraction, bool) or not isinstance(fraction, (int, float)) or not 0.0 <= fraction < 1.0:
        raise CompError(f"{where}: validation_fraction is {fraction!r}; it must be in [0, 1) (0: no inner split, every "
                        "training row trains and the last epoch is kept)")
    seconds = fold_seconds(config, float(table.get("time_share", TIME_SHARE)),
                           fits_per_fold=max(1, n_backbones) * (max(1, trials) + (1 if pseudo else 0)) * seeds)
    return FinetuneOptions(params=params, trials=trials, input_size=tuple(size) if size else None, views=views,
                           colour_jitter=bool(table.get("colour_jitter", False)),
                           validation_fraction=float(fraction),
                           workers=int(table["workers"]) if table.get("workers") else None,
                           pseudo_accuracy=float(table.get("pseudo_accuracy", 0.95)),
                           mixed_precision=bool(config.get("mixed_precision", False)),
                           xla=bool(config.get("xla", False)), seeds=seeds, fold_seconds=seconds)


def finetune_backbones(config: dict) -> list[str]:
    """The backbones fine-tuned: ``finetune_params.backbones``, else the run's first backbone."""
    names = list((config.get("finetune_params") or {}).get("backbones") or config.get("backbones", [])[:1])
    if not names:
        raise CompError("fine-tuning needs a backbone: pass --backbones NAME or set finetune_params.backbones")
    return names
