"""``finetune@<backbone>``: a registry backbone and a new head trained end to end under the run's folds (any task
type), with test-time views; ``finetune_pl@<backbone>`` is its second round on leak-free pseudo-labels."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.contract import Dataset, FitContext, FoldResult, ModelSpec
from comp.engine import fold_seed, params_key
from comp.errors import CompError
from comp.io import Run, write_json
from comp.tasks import Task
from comp.vision._callbacks import epoch_logger, prune_on_validation_loss
from comp.vision.backbones import get_backbone, preprocessing_layer_class, resolve_weights
from comp.vision.features import distribution_strategy, precision_policy
from comp.vision.finetune._augment import Augmenter
from comp.vision.finetune._checkpoint import Checkpoint
from comp.vision.finetune._fit import FitPlan, fine_tune
from comp.vision.finetune._inputs import view_batches
from comp.vision.finetune._network import build_network, seed_average
from comp.vision.finetune._options import FinetuneOptions, finetune_backbones, finetune_options
from comp.vision.finetune._pseudo import PseudoLabels
from comp.vision.finetune._rows import inner_split, task_loss

keras = lazy_import("keras")
logger = logging.getLogger("comp.finetune")
NETWORK_FILE = "network.keras"
UNFREEZE_CHOICES = ("all", "1", "2", "4")
PREDICT_BATCH = 64


def unfreeze_blocks(value: str | int) -> str | int:
    """``unfreeze`` as ``set_backbone_trainable`` takes it: "all" or a number of blocks (params keep it a string)."""
    return "all" if str(value) == "all" else int(value)


def with_unreadable_rows(n_rows: int, rows: list[np.ndarray], outputs: list[np.ndarray]) -> np.ndarray:
    """The network's outputs (n_rows, outputs) from batches of decoded rows; a row whose image could not be decoded
    gets the mean output of the others (the feature heads' remedy under --allow-bad-test)."""
    if not rows:
        raise CompError(f"none of the {n_rows} images to predict could be decoded")
    decoded_rows, decoded_outputs = np.concatenate(rows), np.concatenate(outputs)
    full = np.tile(decoded_outputs.mean(axis=0), (n_rows, 1))
    full[decoded_rows] = decoded_outputs
    return full


class FinetuneSpec(ModelSpec):
    """A backbone fine-tuned with a new head on the rows of ``train_paths`` (``targets``: (n,) classes or values,
    (n, K) labels; ``groups``: (n,) the image or group of each row, kept on one side of the early-stopping split),
    predicting ``test_paths`` as the mean over the test-time views; with ``pseudo``, also trained on the test images
    fold k's round-1 network labelled. ``checkpoint_root`` (None: no checkpoints) holds per-epoch checkpoints."""

    def __init__(self, *, backbone: str, weights_source: str, train_paths: list[str], targets: np.ndarray,
                 groups: np.ndarray, test_paths: list[str], task: Task, options: FinetuneOptions,
                 checkpoint_root: Path | None, seed: int = 0, pseudo: PseudoLabels | None = None,
                 name: str | None = None):
        self.backbone = get_backbone(backbone)
        self.weights = resolve_weights(self.backbone, weights_source, seed=seed)
        self.train_paths = np.asarray(train_paths, dtype=str)
        self.targets = np.asarray(targets, dtype=np.int64 if task.kind == "multiclass" else np.float32)
        self.groups = np.asarray(groups)
        self.test_paths = np.asarray(test_paths, dtype=str)
        self.task = task
        self.options = options
        self.checkpoint_root = Path(checkpoint_root) if checkpoint_root is not None else None
        self.pseudo = pseudo
        self.name = name or f"{'finetune_pl' if pseudo else 'finetune'}@{backbone}"
        self.tunable = pseudo is None  # round 2 refits round 1's parameters on the same folds
        self.trials = options.trials
        self.size = tuple(options.input_size or self.backbone.input_size)
        if task.kind == "regression" and float(options.params.get("label_smoothing", 0.0)):
            raise CompError("`finetune_params` in the config: label_smoothing is for classification; this competition "
                            "is a regression, so leave it at 0")

    def default_params(self) -> dict:
        params = self.pseudo.round1_params() if self.pseudo is not None else dict(self.options.params)
        return {**params, "unfreeze": str(params["unfreeze"])}

    def search_space(self, trial) -> dict:
        """Learning rates of both phases, unfreeze depth, augmentation strength, epochs and schedule."""
        start = self.default_params()
        epochs = int(start["epochs"])
        return {**start,
                "head_learning_rate": trial.suggest_float("head_learning_rate", 1e-4, 1e-2, log=True),
                "learning_rate": trial.suggest_float("learning_rate", 1e-5, 1e-3, log=True),
                "unfreeze": trial.suggest_categorical("unfreeze", sorted({*UNFREEZE_CHOICES, start["unfreeze"]})),
                "strength": trial.suggest_float("strength", 0.0, 1.0),
                "epochs": trial.suggest_int("epochs", max(1, epochs // 2), max(2, epochs * 2)),
                "schedule": trial.suggest_categorical("schedule", ["cosine", "step"])}

    def plan(self, params: dict) -> FitPlan:
        return FitPlan(head_epochs=int(params["head_epochs"]), epochs=int(params["epochs"]),
                       head_learning_rate=float(params["head_learning_rate"]),
                       learning_rate=float(params["learning_rate"]), unfreeze=unfreeze_blocks(params["unfreeze"]),
                       schedule=params["schedule"], warmup=float(params["warmup"]), patience=int(params["patience"]),
                       batch_size=int(params["batch_size"]), seconds_allowed=self.options.fold_seconds,
                       label_smoothing=float(params.get("label_smoothing", 0.0)), mixup=float(params.get("mixup", 0.0)))

    def checkpoint(self, params: dict, fold: int, seed_index: int = 0) -> Checkpoint:
        if self.checkpoint_root is None:
            return Checkpoint(None)
        suffix = f".seed{seed_index}" if seed_index else ""  # the first seed's: where one-seed runs keep theirs
        return Checkpoint(self.checkpoint_root / params_key(params) / f"fold{fold}{suffix}")

    def fit_fold(self, params: dict, train_index: np.ndarray, valid_index: np.ndarray,
                 context: FitContext) -> FoldResult:
        """Fine-tune ``options.seeds`` networks on the fold's training rows, each from its own seed (initialisation,
        inner split, batch order, augmentation); the fold's model is their mean. Only the first reports its epochs to
        the tuner: the others refit parameters that survived pruning."""
        pseudo_rows, extra = None, {}
        if self.pseudo is not None:
            kept, labels, threshold = self.pseudo.for_fold(context.fold)
            pseudo_rows = (kept, labels)
            extra["pseudo_labels"] = {"test_rows": len(kept), "threshold": threshold}
            logger.info("%s fold %d: %d pseudo-labelled test images (confidence >= %.4f)", self.name, context.fold,
                        len(kept), threshold)
        networks, histories, checkpoints = [], [], []
        for seed_index in range(self.options.seeds):
            checkpoints.append(self.checkpoint(params, context.fold, seed_index))
            # fold_seed(s, f) + fold_seed(k, 0) = fold_seed(s + k, f): the network fold f of a run seeded k higher fits
            network, history = self.fit_network(params, train_index, seed=context.seed + fold_seed(seed_index, 0),
                                                 checkpoint=checkpoints[-1], pseudo_rows=pseudo_rows,
                                                 context=context if seed_index == 0 else None)
            if context.pruned_at is not None:
                checkpoints[-1].remove()
                context.raise_if_pruned(f"{self.name}: inner-split loss")
            networks.append(network)
            histories.append(history)
        truth = self.targets[valid_index]
        seed_views = [self.view_predictions(network, self.train_paths[valid_index]) for network in networks]
        by_view = {view: np.mean([views[view] for views in seed_views], axis=0) for view in self.options.views}
        valid_prediction = np.mean(list(by_view.values()), axis=0)
        losses = {view: task_loss(self.task.kind, truth, prediction) for view, prediction in by_view.items()}
        mean_loss = losses["+".join(by_view)] = task_loss(self.task.kind, truth, valid_prediction)
        history = {**histories[0], "tta_valid_loss": losses, **extra}
        if len(networks) > 1:  # dicts, not lists: the report plots a history's lists as training curves
            history["seed_valid_loss"] = {
                **{str(index): task_loss(self.task.kind, truth, np.mean(list(views.values()), axis=0))
                   for index, views in enumerate(seed_views)}, "mean": mean_loss}
            history["seed_histories"] = {str(index): other for index, other in enumerate(histories) if index}
            logger.info("%s fold %d: held-out loss per seed and their mean: %s", self.name, context.fold,
                        " ".join(f"{key} {loss:.5f}" for key, loss in history["seed_valid_loss"].items()))
        model = networks[0] if len(networks) == 1 else seed_average(networks)
        test_prediction = self.predict_test(model)
        for checkpoint in checkpoints:
            checkpoint.remove()
        return FoldResult(valid_prediction, test_prediction, model, history)

    def fit_network(self, params: dict, train_index: np.ndarray, *, seed: int, checkpoint: Checkpoint,
                    pseudo_rows: tuple[np.ndarray, np.ndarray] | None, context: FitContext | None):
        """One network fine-tuned from ``seed`` on ``train_index`` less its inner early-stopping split (none with
        ``validation_fraction`` 0), plus the pseudo-labelled test rows (kept test rows, their labels); epochs
        reported to ``context`` (None: to none). Returns (network, per-epoch history)."""
        if self.options.validation_fraction:
            fit_rows, stop_rows = inner_split(self.targets[train_index], self.groups[train_index],
                                              fraction=self.options.validation_fraction, seed=seed,
                                              stratify=self.task.kind in ("binary", "multiclass"))
        else:  # every row trains; no early stopping or pruning, the last epoch is kept
            fit_rows, stop_rows = np.arange(len(train_index)), np.arange(0)
        fit_index, stop_index = train_index[fit_rows], train_index[stop_rows]
        paths, targets = list(self.train_paths[fit_index]), self.targets[fit_index]
        if pseudo_rows is not None:
            kept, labels = pseudo_rows
            paths += list(self.test_paths[kept])
            targets = np.concatenate([targets, labels.astype(targets.dtype)])
        augmenter = Augmenter(self.size, strength=float(params["strength"]), colour_jitter=self.options.colour_jitter)
        plan = self.plan(params)
        callbacks = [epoch_logger(self.name, seed, epochs=plan.head_epochs + plan.epochs, log=logger)]
        if context is not None:
            callbacks.append(prune_on_validation_loss(context))
        with precision_policy(self.options.mixed_precision), distribution_strategy().scope():
            network = build_network(self.backbone, self.weights, self.size, task=self.task.kind,
                                    n_outputs=self.task.n_outputs, dropout=float(params["dropout"]), seed=seed)
            history = fine_tune(
                network, plan=plan, task=self.task.kind, training=(paths, targets),
                validation=(list(self.train_paths[stop_index]), self.targets[stop_index]), augmenter=augmenter,
                seed=seed, checkpoint=checkpoint, jit_compile=self.options.xla, workers=self.options.workers,
                callbacks=callbacks, stopped=lambda: context is not None and context.pruned_at is not None)
        return network, history

    def view_predictions(self, model, paths: np.ndarray) -> dict[str, np.ndarray]:
        """The network's prediction of ``paths`` in every test-time view: view -> (n,) or (n, K)."""
        predictions = {}
        for view in self.options.views:
            rows, outputs = [], []
            for indices, images in view_batches(list(paths), self.size, view, batch_size=PREDICT_BATCH,
                                                workers=self.options.workers):
                rows.append(np.asarray(indices))
                outputs.append(np.asarray(model.predict_on_batch(images), dtype=np.float64))
            output = with_unreadable_rows(len(paths), rows, outputs)
            predictions[view] = output[:, 0] if self.task.n_outputs == 1 else output
        return predictions

    def predict_test(self, model) -> np.ndarray:
        """The mean over the test-time views of the test rows, (n_test,) or (n_test, K)."""
        return np.mean(list(self.view_predictions(model, self.test_paths).values()), axis=0)

    def save_model(self, model, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        model.save(directory / NETWORK_FILE)
        write_json(directory / "network.json", {"backbone": self.backbone.name, "input_size": list(self.size),
                                                "task": self.task.kind})

    def load_model(self, directory: Path):
        preprocessing_layer_class()  # registers the preprocessing layer the network holds
        return keras.models.load_model(Path(directory) / NETWORK_FILE, compile=False)

    def describe(self) -> dict:
        return {"kind": "finetune", "backbone": self.backbone.name, "input_size": list(self.size),
                "views": list(self.options.views), "pseudo_labels_from": self.pseudo.round1 if self.pseudo else None}


def finetune_specs(dataset: Dataset, config: dict, run: Run) -> list[FinetuneSpec]:
    """The fine-tuned models a run's config asks for (``finetune``, ``pseudo_labels``): one per fine-tuned backbone
    and, with pseudo-labels, its second round right after it."""
    names = finetune_backbones(config)
    pseudo = bool(config.get("pseudo_labels"))
    options = finetune_options(config, n_backbones=len(names), pseudo=pseudo)
    task = dataset.task
    truth = dataset.truth() if dataset.targets is not None else np.zeros((0, task.n_outputs))
    groups = dataset.train["group"].to_numpy() if "group" in dataset.train else np.arange(len(dataset.train))
    sources = config.get("weights") or {}
    specs = []
    for name in names:
        common = {"backbone": name, "weights_source": sources.get(name, config.get("default_weights", "imagenet")),
                  "train_paths": dataset.train["path"].astype(str).tolist(), "targets": truth, "groups": groups,
                  "test_paths": dataset.test["path"].astype(str).tolist(), "task": task, "options": options,
                  "seed": int(config.get("seed", 0))}
        first = FinetuneSpec(**common, checkpoint_root=run.file("finetune_checkpoints", f"finetune@{name}"))
        specs.append(first)
        if pseudo:
            labels = PseudoLabels(run=run, round1=first.name, truth=truth, task=task.kind,
                                  accuracy=options.pseudo_accuracy)
            specs.append(FinetuneSpec(**common, pseudo=labels,
                                      checkpoint_root=run.file("finetune_checkpoints", f"finetune_pl@{name}")))
    return specs
