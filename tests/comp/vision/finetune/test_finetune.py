"""The fine-tuning spec on tiny generated images: frozen batch norm, the image-grouped inner split, per-fold
pseudo-labels, resume after a kill mid-fold, and `comp predict` of a fine-tuned run."""

import numpy as np
import pandas as pd
import pytest

from comp._lazy import lazy_import
from comp.contract import FitContext
from comp.engine import train
from comp.errors import CompError, TrialPruned
from comp.io import Run, resolve_config
from comp.tasks import Task
from comp.vision.backbones import BackboneSpec, get_backbone, register_backbone, resolve_weights
from comp.vision.finetune import (
    FINETUNE_START,
    Checkpoint,
    FinetuneOptions,
    FinetuneSpec,
    FitState,
    PseudoLabels,
    backbone_blocks,
    backbone_of,
    build_network,
    fine_tune,
    finetune_options,
    finetune_section,
    inner_split,
    network_targets,
    set_backbone_trainable,
    training_loss,
)
from competitions.images import ImagesCompetition
from competitions.images.demo import write_demo
from competitions.images.reader import read_images

keras = lazy_import("keras")
tf = lazy_import("tensorflow")
SIZE = (48, 48)
TINY = {**FINETUNE_START, "head_epochs": 1, "epochs": 1, "batch_size": 8, "patience": 10}


def tiny_batch_norm_network(spec, weights, input_shape):
    """conv -> batch norm -> relu, twice, with a residual sum: a small backbone whose batch norm can be watched."""
    keras.utils.set_random_seed(weights.seed)
    images = keras.Input(input_shape)
    first = keras.layers.ReLU()(keras.layers.BatchNormalization(name="bn1")(
        keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv1")(images)))
    second = keras.layers.BatchNormalization(name="bn2")(keras.layers.Conv2D(8, 3, padding="same", name="conv2")(first))
    return keras.Model(images, keras.layers.ReLU()(keras.layers.Add(name="residual")([first, second])), name="tiny_bn")


@register_backbone("tiny_bn_test")
def tiny_bn_test() -> BackboneSpec:
    return BackboneSpec(name="tiny_bn_test", input_size=SIZE, feature_size=8, preprocessing="tf-unit",
                        weights_filename="none.h5", skip_layers=(), _build=tiny_batch_norm_network,
                        _downloadable=False)


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """24 generated multi-class pictures (4 shapes) and 6 test pictures."""
    data = write_demo(tmp_path_factory.mktemp("images") / "data", n=24, seed=0, task="multiclass")
    return read_images(data, {})


def make_spec(layout, tmp_path, *, backbone="squeezenet1_1", params=TINY, pseudo=None, name=None, seeds=1,
              validation_fraction=0.25):
    options = FinetuneOptions(params=dict(params), input_size=SIZE, views=("orig", "flip"),
                              validation_fraction=validation_fraction, seeds=seeds)
    return FinetuneSpec(backbone=backbone, weights_source="none", train_paths=layout.train["path"].tolist(),
                        targets=layout.targets, groups=np.arange(len(layout.train)),
                        test_paths=layout.test["path"].tolist(), task=layout.task, options=options,
                        checkpoint_root=tmp_path / "checkpoints", pseudo=pseudo, name=name)


def batch_norm_arrays(model) -> dict[str, list[np.ndarray]]:
    """gamma, beta, moving mean and moving variance of every batch-norm layer of the network's backbone."""
    return {layer.name: [np.array(weight) for weight in layer.get_weights()] for layer in backbone_of(model).layers
            if isinstance(layer, keras.layers.BatchNormalization)}


def test_batch_norm_weights_and_statistics_stay_unchanged_while_the_backbone_trains(images, tmp_path):
    spec = make_spec(images, tmp_path, backbone="tiny_bn_test", params={**TINY, "head_epochs": 2, "epochs": 0})
    rows = np.arange(len(images.train))
    fresh = build_network(spec.backbone, resolve_weights(spec.backbone, "none", seed=0), SIZE, task="multiclass",
                          n_outputs=4, dropout=0.2, seed=5)
    phase_one = spec.fit_fold(spec.default_params(), rows[:18], rows[18:], FitContext(seed=5, fold=0)).model
    for name, arrays in batch_norm_arrays(fresh).items():
        assert len(arrays) == 4
        for before, after in zip(arrays, batch_norm_arrays(phase_one)[name]):
            np.testing.assert_array_equal(before, after)
    for before, after in zip(backbone_of(fresh).get_weights(), backbone_of(phase_one).get_weights()):
        np.testing.assert_array_equal(before, after)  # phase 1: the whole backbone frozen
    assert not np.array_equal(fresh.get_layer("prediction").get_weights()[0],
                              phase_one.get_layer("prediction").get_weights()[0])  # the head trained

    spec = make_spec(images, tmp_path, backbone="tiny_bn_test", params={**TINY, "learning_rate": 1e-2})
    both = spec.fit_fold(spec.default_params(), rows[:18], rows[18:], FitContext(seed=5, fold=0)).model
    for name, arrays in batch_norm_arrays(fresh).items():  # phase 2: convolutions train, batch norm stays frozen
        for before, after in zip(arrays, batch_norm_arrays(both)[name]):
            np.testing.assert_array_equal(before, after)
    assert not np.array_equal(backbone_of(fresh).get_layer("conv2").get_weights()[0],
                              backbone_of(both).get_layer("conv2").get_weights()[0])


def test_squeezenet_blocks_are_its_fire_modules_and_unfreeze_counts_them():
    backbone = get_backbone("squeezenet1_1")
    network = backbone.build(resolve_weights(backbone, "none"), (64, 64))
    blocks = backbone_blocks(network)
    assert [block[-1].name for block in blocks] == ["pool1", *[f"fire{index}_concat" for index in range(2, 10)]]
    set_backbone_trainable(network, 2)
    assert {layer.name.split("_")[0] for layer in network.layers if layer.trainable and layer.weights} == {
        "fire8", "fire9"}


def test_the_inner_split_never_puts_two_views_of_one_image_on_both_sides():
    rng = np.random.default_rng(0)
    images = np.repeat(np.arange(60), 3)  # three views (orig, flip, crop) of each of 60 images
    targets = np.repeat(rng.integers(0, 3, size=60), 3)
    for seed in range(5):
        fit, stop = inner_split(targets, images, fraction=0.2, seed=seed, stratify=True)
        assert set(images[fit]).isdisjoint(images[stop])
        assert len(fit) + len(stop) == len(images) and len(stop) % 3 == 0 and len(stop)
    labels = rng.integers(0, 2, size=(180, 4))
    fit, stop = inner_split(labels, images, fraction=0.2, seed=1, stratify=False)
    assert set(images[fit]).isdisjoint(images[stop])


def test_an_epoch_is_kept_when_its_inner_loss_is_the_lowest_or_always_when_there_is_no_inner_split():
    stopping = FitState()
    assert stopping.record({"loss": 0.9, "val_loss": 0.5}, 1.0)
    assert not stopping.record({"loss": 0.4, "val_loss": 0.6}, 2.0) and stopping.waited == 1
    assert stopping.best_epoch == 0
    no_split = FitState()
    assert no_split.record({"loss": 0.5}, 1.0)
    assert no_split.record({"loss": 0.8}, 2.0)  # a worse training loss: still the latest weights, kept
    assert no_split.best_epoch == 1 and no_split.waited == 0


def test_with_no_inner_split_every_training_row_trains_every_epoch_and_the_last_is_the_model(
        images, tmp_path, monkeypatch):
    """``validation_fraction = 0``: nothing is held back from the fold's training rows, patience cannot stop the fit,
    and the fold's network is the one its last epoch left."""
    seen = {}

    def watched(model, **options):
        seen["training"], seen["validation"] = len(options["training"][0]), len(options["validation"][0])
        last_epoch = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: seen.update(weights=[np.array(w) for w in model.get_weights()]))
        return fine_tune(model, **{**options, "callbacks": [*options["callbacks"], last_epoch]})

    monkeypatch.setattr("comp.vision.finetune._spec.fine_tune", watched)
    params = {**TINY, "epochs": 3, "patience": 1, "learning_rate": 1e-2}
    rows = np.arange(len(images.train))
    result = make_spec(images, tmp_path, params=params, validation_fraction=0.0).fit_fold(
        params, rows[:18], rows[18:], FitContext(seed=3, fold=0))
    assert seen["training"] == 18 and seen["validation"] == 0
    assert "val_loss" not in result.history and len(result.history["loss"]) == 4
    for kept, last in zip(result.model.get_weights(), seen["weights"]):
        np.testing.assert_array_equal(kept, last)
    for fraction in (1, -0.1, True, "0.2"):
        with pytest.raises(CompError, match=f"validation_fraction is {fraction!r}; it must be in \\[0, 1\\)"):
            finetune_options({"folds": 5, "finetune_params": {"validation_fraction": fraction}}, n_backbones=1,
                             pseudo=False)


def fake_round_one(tmp_path, fold_predictions: list[np.ndarray], fold_of_row: np.ndarray, oof: np.ndarray) -> Run:
    """A run in which model ``finetune@x`` finished: each fold's test prediction saved beside its fold model, the
    OOF predictions, and (as a decoy) a fold-mean test prediction whose labels differ from every fold's."""
    run = Run.create(tmp_path, "images", tmp_path / "run")
    run.write_json("folds.json", {"fold": fold_of_row.tolist()})
    run.write_json("scores.json", {"models": {"finetune@x": {"params_key": "key", "params": dict(TINY)}}})
    for fold, prediction in enumerate(fold_predictions):
        directory = run.file("fold_cache", "finetune@x", "key", f"fold{fold}")
        (directory / "model").mkdir(parents=True)
        np.save(directory / "test.npy", prediction)
    run.save_predictions("finetune@x", oof, 1 - np.mean(fold_predictions, axis=0))
    return run


def test_the_pseudo_labels_of_fold_k_come_from_fold_k_model_alone(tmp_path):
    truth = np.array([0, 1] * 10)
    fold_of_row = np.arange(20) % 2
    oof = np.where(truth == 1, 0.95, 0.05)
    fold_predictions = [np.array([0.99, 0.02, 0.6, 0.97]), np.array([0.03, 0.98, 0.99, 0.4])]
    run = fake_round_one(tmp_path, fold_predictions, fold_of_row, oof)
    labels = PseudoLabels(run=run, round1="finetune@x", truth=truth, task="binary", accuracy=0.95)
    kept, targets, threshold = labels.for_fold(0)
    assert threshold == pytest.approx(0.9)
    assert kept.tolist() == [0, 1, 3] and targets.tolist() == [1, 0, 1]  # fold 0's labels, not the mean's
    kept, targets, _ = labels.for_fold(1)
    assert kept.tolist() == [0, 1, 2] and targets.tolist() == [0, 1, 1]


def test_round_two_trains_fold_k_on_the_test_images_fold_k_labelled(images, tmp_path, monkeypatch):
    n_test = len(images.test)
    fold_predictions = [np.eye(4)[np.arange(n_test) % 4] * 0.97 + 0.0075,
                        np.eye(4)[(np.arange(n_test) + 1) % 4] * 0.97 + 0.0075]
    fold_of_row = np.arange(len(images.train)) % 2
    run = fake_round_one(tmp_path, fold_predictions, fold_of_row, np.eye(4)[images.targets] * 0.97 + 0.0075)
    seen = {}

    def record(model, *, training, **options):
        seen["paths"], seen["targets"] = training
        return {}

    monkeypatch.setattr("comp.vision.finetune._spec.fine_tune", record)
    labels = PseudoLabels(run=run, round1="finetune@x", truth=images.targets, task="multiclass", accuracy=0.9)
    spec = make_spec(images, tmp_path, pseudo=labels)
    assert spec.name == "finetune_pl@squeezenet1_1" and not spec.tunable
    rows = np.arange(len(images.train))
    for fold in (0, 1):
        result = spec.fit_fold(TINY, rows[fold_of_row != fold], rows[fold_of_row == fold], FitContext(seed=0, fold=fold))
        test_paths = images.test["path"].tolist()
        pseudo = [(test_paths.index(path), target) for path, target in zip(seen["paths"], seen["targets"])
                  if path in test_paths]
        assert [row for row, _ in pseudo] == list(range(n_test))
        assert [int(target) for _, target in pseudo] == np.argmax(fold_predictions[fold], axis=1).tolist()
        assert not set(seen["paths"]) & set(images.train["path"].iloc[rows[fold_of_row == fold]])  # held out
        assert result.history["pseudo_labels"]["test_rows"] == n_test


def test_a_fit_killed_after_epoch_two_resumes_from_its_last_saved_epoch(images, tmp_path):
    params = {**TINY, "head_epochs": 1, "epochs": 4}
    rows = np.arange(len(images.train))
    first_epochs = []

    def killed_after_epoch_two(epoch, loss):
        first_epochs.append(epoch)
        if epoch == 2:
            raise KeyboardInterrupt("killed")  # as a kill mid-fold: nothing after the epoch's checkpoint runs
        return False

    spec = make_spec(images, tmp_path, params=params)
    with pytest.raises(KeyboardInterrupt):
        spec.fit_fold(params, rows[:18], rows[18:], FitContext(seed=2, fold=1, epoch_reporter=killed_after_epoch_two))
    assert first_epochs == [0, 1, 2]
    resumed_epochs = []
    resumed = make_spec(images, tmp_path, params=params).fit_fold(
        params, rows[:18], rows[18:], FitContext(seed=2, fold=1, epoch_reporter=lambda epoch, loss:
                                                 resumed_epochs.append(epoch) or False))
    assert resumed_epochs == [3, 4]  # the last saved epoch was 2: epochs 3 and 4 are left
    assert len(resumed.history["loss"]) == 5 and resumed.history["phase"] == [1.0, 2.0, 2.0, 2.0, 2.0]
    assert not (tmp_path / "checkpoints").exists() or not any((tmp_path / "checkpoints").rglob("*.npz"))


def test_a_two_seed_fold_model_is_the_mean_of_the_networks_one_seed_runs_would_fit(images, tmp_path):
    """Seed k of fold 0 in a run seeded s is the network that fold 0 of a run seeded s + k fits (fold seed + 1000k),
    so averaging seeds can be checked against single-seed runs; the fold's model holds both networks."""
    rows = np.arange(len(images.train))
    two = make_spec(images, tmp_path, seeds=2).fit_fold(TINY, rows[:18], rows[18:], FitContext(seed=7, fold=0))
    alone = [make_spec(images, tmp_path).fit_fold(TINY, rows[:18], rows[18:], FitContext(seed=seed, fold=0))
             for seed in (7, 1007)]
    assert not np.allclose(alone[0].valid_prediction, alone[1].valid_prediction, atol=1e-3)  # the seeds differ
    np.testing.assert_allclose(two.valid_prediction, np.mean([one.valid_prediction for one in alone], axis=0),
                               atol=1e-5)
    np.testing.assert_allclose(two.test_prediction, np.mean([one.test_prediction for one in alone], axis=0), atol=1e-5)
    assert list(two.history["seed_valid_loss"]) == ["0", "1", "mean"]
    assert two.history["seed_valid_loss"]["mean"] == two.history["tta_valid_loss"]["orig+flip"]
    for index, one in enumerate(alone):
        assert two.history["seed_valid_loss"][str(index)] == pytest.approx(one.history["tta_valid_loss"]["orig+flip"])
    spec = make_spec(images, tmp_path, seeds=2)
    spec.save_model(two.model, tmp_path / "fold0")
    reloaded = spec.load_model(tmp_path / "fold0")  # what comp predict and comp export load
    np.testing.assert_allclose(spec.predict_test(reloaded), two.test_prediction, atol=1e-5)


def test_a_two_seed_fold_killed_in_its_second_network_resumes_there_and_matches_an_unbroken_fit(
        images, tmp_path, monkeypatch):
    rows = np.arange(len(images.train))
    params = {**TINY, "epochs": 3}
    unbroken = make_spec(images, tmp_path / "unbroken", params=params, seeds=2).fit_fold(
        params, rows[:18], rows[18:], FitContext(seed=3, fold=0))
    save = Checkpoint.save

    def killed_in_the_second_seed(checkpoint, state, model, *, improved):
        save(checkpoint, state, model, improved=improved)
        if checkpoint.directory.name == "fold0.seed1" and state.epoch == 2:
            raise KeyboardInterrupt("killed")  # as a kill right after the second network's second epoch

    monkeypatch.setattr(Checkpoint, "save", killed_in_the_second_seed)
    with pytest.raises(KeyboardInterrupt):
        make_spec(images, tmp_path, params=params, seeds=2).fit_fold(params, rows[:18], rows[18:],
                                                                     FitContext(seed=3, fold=0))
    monkeypatch.setattr(Checkpoint, "save", save)
    first_seed_epochs = []
    resumed = make_spec(images, tmp_path, params=params, seeds=2).fit_fold(
        params, rows[:18], rows[18:], FitContext(seed=3, fold=0, epoch_reporter=lambda epoch, loss:
                                                 first_seed_epochs.append(epoch) or False))
    assert first_seed_epochs == []  # the first network had finished: restored, not trained again
    assert len(resumed.history["seed_histories"]["1"]["loss"]) == 4
    np.testing.assert_allclose(resumed.valid_prediction, unbroken.valid_prediction, atol=1e-5)
    assert not any((tmp_path / "checkpoints").rglob("*.npz"))


@pytest.mark.parametrize("task", ["binary", "multilabel", "regression"])
def test_every_task_type_fits_and_predicts_in_its_shape(tmp_path, task):
    rng = np.random.default_rng(1)
    layout = read_images(write_demo(tmp_path / "data", n=16, seed=1, task="multiclass" if task == "binary" else task),
                         {"task": task} if task == "regression" else {})  # whole radii would read as classes
    assert layout.task.kind == ("multiclass" if task == "binary" else task)
    if task == "binary":
        layout.task, layout.targets = Task("binary", ("0", "1")), (layout.targets % 2).astype(int)
    spec = make_spec(layout, tmp_path, params={**TINY, "epochs": 0})
    rows = rng.permutation(len(layout.train))
    result = spec.fit_fold(spec.default_params(), rows[:12], rows[12:], FitContext(seed=0, fold=0))
    shape = (4,) if layout.task.n_outputs == 1 else (4, layout.task.n_outputs)
    assert result.valid_prediction.shape == shape and np.isfinite(result.test_prediction).all()
    assert set(result.history["tta_valid_loss"]) == {"orig", "flip", "orig+flip"}


@pytest.mark.slow
def test_a_finetuned_run_predicts_its_own_test_images_again(tmp_path):
    competition = ImagesCompetition()
    data = write_demo(tmp_path / "data", n=24, seed=0, task="multiclass")
    config = resolve_config(competition.default_config(), flags={
        "data": str(data), "backbones": ["squeezenet1_1"], "weights": {"squeezenet1_1": "none"},
        "heads": ["logistic"], "references": False, "folds": 2, "trials": 0, "seed": 3, "finetune": True,
        "finetune_params": {"input_size": [48, 48], "head_epochs": 1, "epochs": 1, "batch_size": 8, "seeds": 2},
        "cache_dir": str(tmp_path / "cache"), "runs_root": str(tmp_path / "runs"),
        "submissions_root": str(tmp_path / "submissions")})
    run = Run.create(tmp_path / "runs", competition.name)
    run.write_json("config.json", {"competition": competition.name, "config": config})
    scores = train(competition, config, run=run)
    assert "finetune@squeezenet1_1" in scores["models"]
    run.write_json("scores.json", {**scores, "final": {"name": "finetune@squeezenet1_1",
                                                       **scores["models"]["finetune@squeezenet1_1"]}})
    written = competition.predict(run, data, tmp_path / "predictions.csv")
    _, test = run.load_predictions("finetune@squeezenet1_1")
    predicted = pd.read_csv(written)
    np.testing.assert_allclose(predicted[list(images_classes(data))].to_numpy(), test, atol=1e-6)
    exported = competition.export_model(run)  # comp export: each fold's two seeds on orig and flip, from raw images
    for row, path in enumerate(run.rows()["test"]["path"][:3]):
        image = tf.cast(tf.io.decode_image(tf.io.read_file(str(path)), channels=3), tf.float32)[None]
        np.testing.assert_allclose(np.asarray(exported(image))[0], test[row], atol=1e-5)


def images_classes(data) -> list[str]:
    return list(pd.read_csv(data / "sample_submission.csv").columns[1:])


def test_the_time_budget_is_split_over_every_fit_of_the_networks_and_bad_settings_are_one_line():
    config = {"folds": 5, "trials": 4, "time_budget": 60, "epochs": 7,
              "finetune_params": {"unfreeze": 2, "views": ["orig", "crop"]}}
    options = finetune_options(config, n_backbones=2, pseudo=False)
    assert options.fold_seconds == pytest.approx(60 * 60 * 0.8 / (5 * 4 * 2))
    assert options.params["epochs"] == 7 and options.params["unfreeze"] == 2 and options.views == ("orig", "crop")
    assert options.trials == 4  # the run's --trials unless finetune_params.trials says otherwise
    # one trial of the network (its first values) and its pseudo-label round: two fits per fold
    own = finetune_options({**config, "finetune_params": {"trials": 0}}, n_backbones=1, pseudo=True)
    assert own.trials == 0 and own.fold_seconds == pytest.approx(60 * 60 * 0.8 / (5 * 2))
    seeded = finetune_options({**config, "finetune_params": {"trials": 0, "seeds": 3}}, n_backbones=1, pseudo=False)
    assert seeded.seeds == 3 and seeded.fold_seconds == pytest.approx(60 * 60 * 0.8 / (5 * 3))  # a network per seed
    for seeds in (0, 1.5, True):
        with pytest.raises(CompError, match=f"seeds is {seeds!r}; it must be a whole number of at least 1"):
            finetune_options({"folds": 5, "finetune_params": {"seeds": seeds}}, n_backbones=1, pseudo=False)
    assert finetune_options({"folds": 5}, n_backbones=1, pseudo=False).fold_seconds is None
    with pytest.raises(CompError, match="unfreeze is 'top'"):
        finetune_options({"folds": 5, "finetune_params": {"unfreeze": "top"}}, n_backbones=1, pseudo=False)
    with pytest.raises(CompError, match="unknown fine-tuning parameter 'learning_rat'"):
        finetune_options({"folds": 5, "finetune_params": {"learning_rat": 1e-3}}, n_backbones=1, pseudo=False)
    with pytest.raises(CompError, match="views \\['mirror'\\]"):
        finetune_options({"folds": 5, "finetune_params": {"views": ["mirror"]}}, n_backbones=1, pseudo=False)


def test_label_smoothing_mixes_each_class_target_with_the_uniform_distribution():
    probabilities = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], dtype="float32")
    smoothed_targets = np.array([[0.8, 0.1, 0.1], [0.1, 0.1, 0.8]])  # 0.3 spread over 3 classes, the rest on the class
    loss = training_loss("multiclass", 0.3)
    mean_loss = float(loss(network_targets("multiclass", np.array([0, 2]), n_outputs=3), probabilities))
    assert mean_loss == pytest.approx(-(smoothed_targets * np.log(probabilities)).sum(axis=1).mean(), rel=1e-5)
    binary = float(training_loss("binary", 0.2)(np.array([[1.0]]), np.array([[0.9]], dtype="float32")))
    assert binary == pytest.approx(-(0.9 * np.log(0.9) + 0.1 * np.log(0.1)), rel=1e-4)
    assert training_loss("multiclass", 0.0) == "categorical_crossentropy"
    with pytest.raises(ValueError, match="classification"):
        training_loss("regression", 0.1)


def test_a_fold_fits_with_smoothed_and_mixed_labels_and_bad_values_are_one_line(images, tmp_path):
    spec = make_spec(images, tmp_path, params={**TINY, "label_smoothing": 0.1, "mixup": 0.4})
    rows = np.random.default_rng(0).permutation(len(images.train))
    result = spec.fit_fold(spec.default_params(), rows[:18], rows[18:], FitContext(seed=0, fold=0))
    assert np.isfinite(result.history["val_loss"]).all()
    np.testing.assert_allclose(result.valid_prediction.sum(axis=1), 1.0, rtol=1e-5)
    with pytest.raises(CompError, match="label_smoothing is 1.0; it must be in \\[0, 1\\)"):
        finetune_options({"folds": 5, "finetune_params": {"label_smoothing": 1.0}}, n_backbones=1, pseudo=False)
    with pytest.raises(CompError, match="mixup is -0.2; it must be at least 0"):
        finetune_options({"folds": 5, "finetune_params": {"mixup": -0.2}}, n_backbones=1, pseudo=False)
    regression = read_images(write_demo(tmp_path / "regression", n=8, seed=0, task="regression"),
                             {"task": "regression"})
    with pytest.raises(CompError, match="regression, so leave it at 0"):
        make_spec(regression, tmp_path, params={**TINY, "label_smoothing": 0.1})


def test_a_pruned_trial_stops_after_the_reported_epoch_and_leaves_no_checkpoint(images, tmp_path):
    params = {**TINY, "head_epochs": 1, "epochs": 3}
    reported = []
    context = FitContext(seed=4, fold=0, epoch_reporter=lambda epoch, loss: reported.append(epoch) or epoch == 1)
    with pytest.raises(TrialPruned, match="finetune@squeezenet1_1: inner-split loss after epoch 2"):
        make_spec(images, tmp_path, params=params).fit_fold(params, np.arange(18), np.arange(18, 24), context)
    assert reported == [0, 1]
    assert not any((tmp_path / "checkpoints").rglob("state.json"))


def test_the_report_section_shows_views_and_both_pseudo_label_rounds_on_the_same_folds():
    histories = [{"tta_valid_loss": {"orig": 0.3, "flip": 0.5, "orig+flip": 0.35}},
                 {"tta_valid_loss": {"orig": 0.1, "flip": 0.3, "orig+flip": 0.15}}]
    second = [{**history, "pseudo_labels": {"test_rows": rows, "threshold": 0.9}}
              for history, rows in zip(histories, (7, 9))]
    scores = {"metric": "log_loss", "models": {
        "logistic@x.orig": {"score": 0.4, "fold_scores": [0.4, 0.4], "histories": [{}, {}]},
        "finetune@x": {"kind": "finetune", "score": 0.2, "fold_scores": [0.25, 0.15], "histories": histories},
        "finetune_pl@x": {"kind": "finetune", "score": 0.18, "fold_scores": [0.2, 0.16], "histories": second,
                          "pseudo_labels_from": "finetune@x"}}}
    section = finetune_section(scores)
    assert "<td>finetune@x</td><td>0.20000</td><td>0.40000</td><td>0.25000</td>" in section.body
    assert "<td>finetune_pl@x fold 1</td><td>0.15000</td><td>0.16000</td><td>9</td><td>0.9000</td>" in section.body
    assert "<td>finetune_pl@x OOF</td><td>0.20000</td><td>0.18000</td>" in section.body
    assert "Seed ensembles" not in section.body
    histories[1]["seed_valid_loss"] = {"0": 0.17, "1": 0.19, "mean": 0.15}
    assert "<td>finetune@x fold 1</td><td>0.17000 0.19000</td><td>0.15000</td>" in finetune_section(scores).body
    assert finetune_section({"models": {"logistic@x.orig": scores["models"]["logistic@x.orig"]}}) is None


def test_an_undecodable_test_image_gets_the_mean_prediction_of_the_others(images, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    spec = make_spec(images, tmp_path)
    network = build_network(spec.backbone, spec.weights, SIZE, task="multiclass", n_outputs=4, dropout=0.2, seed=0)
    paths = np.asarray([*images.test["path"][:3], str(broken)])
    by_view = spec.view_predictions(network, paths)
    for prediction in by_view.values():
        np.testing.assert_allclose(prediction[3], prediction[:3].mean(axis=0))
        assert np.isfinite(prediction).all() and prediction.shape == (4, 4)


def test_training_images_are_decoded_once_and_each_epochs_batches_are_fixed_by_seed_and_epoch(images, tmp_path):
    """A fit decodes its images once (an undecodable file is left out with its row) and every epoch augments the
    decoded pixels in an order and with draws fixed by (seed, epoch): a resumed fit sees what an unbroken one saw."""
    from comp.vision.finetune import Augmenter, decoded_training_images, training_batches

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    paths = images.train["path"].astype(str).tolist()[:6]
    rows, decoded = decoded_training_images(paths[:3] + [str(broken)] + paths[3:], SIZE)
    assert rows.tolist() == [0, 1, 2, 4, 5, 6] and decoded.shape == (6, *SIZE, 3) and decoded.dtype == np.uint8
    augmenter = Augmenter(SIZE, strength=0.5, colour_jitter=False)
    targets = np.arange(6, dtype=np.float32)

    def epoch(seed, number):
        batches = training_batches(decoded, targets, seed=seed, epoch=number, batch_size=4, augmenter=augmenter)
        pictures, labels = zip(*[(batch.numpy(), target.numpy()) for batch, target in batches])
        return np.concatenate(pictures), np.concatenate(labels)

    first, again, later = epoch(0, 1), epoch(0, 1), epoch(0, 2)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert sorted(first[1]) == list(targets) and not np.array_equal(first[0], later[0])


def test_mixup_blends_each_batch_in_mirror_pairs_with_the_targets_by_weights_fixed_by_seed_and_epoch():
    """Black pictures of class 0 and white ones of class 1: a blended picture's brightness is its target's share of
    class 1, each sample keeps at least half of itself, and (seed, epoch) fix the draws, so a resumed fit sees what an
    unbroken one saw."""
    from comp.vision.finetune import Augmenter, training_batches

    classes = np.array([0, 1] * 8)
    decoded = np.repeat(255 * classes.astype(np.uint8), np.prod(SIZE) * 3).reshape(16, *SIZE, 3)
    targets = network_targets("multiclass", classes, n_outputs=2)
    augmenter = Augmenter(SIZE, strength=0.0, colour_jitter=False)  # a flip only: a plain picture stays as it was

    def epoch(number, mixup):
        batches = training_batches(decoded, targets, seed=3, epoch=number, batch_size=6, augmenter=augmenter,
                                   mixup=mixup)
        pictures, labels = zip(*[(batch.numpy(), target.numpy()) for batch, target in batches])
        return np.concatenate(pictures), np.concatenate(labels)

    pictures, labels = epoch(1, mixup=0.4)
    own = epoch(1, mixup=0.0)[1]  # mixup keeps the epoch's order: row i blends the sample row i holds without it
    np.testing.assert_allclose(pictures.mean(axis=(1, 2, 3)) / 255, labels[:, 1], atol=1e-4)
    np.testing.assert_allclose(labels.sum(axis=1), 1.0, rtol=1e-6)
    assert (labels * own).sum(axis=1).min() >= 0.5 and ((labels[:, 1] > 0.01) & (labels[:, 1] < 0.99)).sum() >= 4
    np.testing.assert_array_equal(epoch(1, mixup=0.4)[1], labels)
    assert not np.array_equal(epoch(2, mixup=0.4)[1], labels)
    assert set(np.unique(own)) == {0.0, 1.0}
    with pytest.raises(ValueError, match="one-hot"):
        training_batches(decoded, classes, seed=0, epoch=0, batch_size=6, augmenter=augmenter, mixup=0.4)
