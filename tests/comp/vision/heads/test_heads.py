import numpy as np
import pytest

from comp.vision.heads import DenseHead, LogisticHead
from comp.vision.heads._heads import grouped_split


@pytest.fixture(scope="module")
def separable():
    rng = np.random.default_rng(0)
    labels = np.arange(200) % 2
    features = rng.normal(size=(200, 16)) * 3 + labels[:, None] * 4.0
    return features.astype(np.float32), labels


@pytest.mark.parametrize("head", [LogisticHead(C=1.0), DenseHead(epochs=50, learning_rate=0.01, standardize=True, seed=1)])
def test_heads_follow_the_estimator_contract_and_learn(head, separable, tmp_path):
    features, labels = separable
    assert head.fit(features[:150], labels[:150]) is head
    probability = head.predict_proba(features[150:])
    assert probability.shape == (50,) and ((probability > 0.5) == labels[150:]).mean() > 0.9
    head.save(tmp_path / "model")
    reloaded = type(head).load(tmp_path / "model")
    assert np.allclose(reloaded.predict_proba(features[150:]), probability, atol=1e-6)


def test_dense_head_early_stops_on_an_inner_split_and_is_seeded(separable):
    features, labels = separable
    first = DenseHead(epochs=200, patience=3, learning_rate=0.01, seed=5).fit(features, labels)
    assert "val_loss" in first.history_ and len(first.history_["loss"]) < 200
    second = DenseHead(epochs=200, patience=3, learning_rate=0.01, seed=5).fit(features, labels)
    assert np.allclose(first.predict_proba(features), second.predict_proba(features))


def task_data(task: str, rng: np.random.Generator, n: int = 240):
    """Features that separate the targets of ``task``: (features (n, 12), targets, n_outputs)."""
    features = rng.normal(size=(n, 12))
    if task == "multiclass":
        targets = np.arange(n) % 3
        features[:, :3] += np.eye(3)[targets] * 4
        return features.astype(np.float32), targets, 3
    if task == "multilabel":
        targets = (rng.random((n, 3)) < 0.4).astype(int)
        features[:, :3] += targets * 4
        return features.astype(np.float32), targets, 3
    targets = features[:, :3] @ np.array([1.0, -2.0, 0.5]) + 3.0
    return features.astype(np.float32), targets, 1


@pytest.mark.parametrize("task", ["multiclass", "multilabel", "regression"])
@pytest.mark.parametrize("head_class", [LogisticHead, DenseHead])
def test_heads_predict_every_task_in_its_shape_and_learn_it(task, head_class, tmp_path):
    features, targets, n_outputs = task_data(task, np.random.default_rng(3))
    options = {"epochs": 60, "learning_rate": 0.03, "standardize": True, "dropout": 0.0, "seed": 2} \
        if head_class is DenseHead else {"C": 10.0}
    head = head_class(task=task, n_outputs=n_outputs, **options).fit(features[:200], targets[:200])
    prediction = head.predict_proba(features[200:])
    truth = targets[200:]
    if task == "multiclass":
        assert prediction.shape == (40, 3) and np.allclose(prediction.sum(axis=1), 1, atol=1e-5)
        assert (prediction.argmax(axis=1) == truth).mean() > 0.9
    elif task == "multilabel":
        assert prediction.shape == (40, 3) and ((prediction > 0.5) == truth).mean() > 0.9
    else:
        assert prediction.shape == (40,) and np.corrcoef(prediction, truth)[0, 1] > 0.95
    head.save(tmp_path / "model")
    assert np.allclose(head_class.load(tmp_path / "model").predict_proba(features[200:]), prediction, atol=1e-5)
    exported = head.as_keras("head")  # the export path: the same numbers from the folded dense layers
    output = np.asarray(exported(features[200:]))
    assert np.allclose(output[:, 0] if n_outputs == 1 else output, prediction, atol=1e-4)


def test_a_multiclass_head_gives_a_column_to_every_class_even_one_missing_from_its_rows():
    features, targets, _ = task_data("multiclass", np.random.default_rng(4))
    keep = targets != 1
    prediction = LogisticHead(task="multiclass", n_outputs=3).fit(features[keep], targets[keep]).predict_proba(features)
    assert prediction.shape == (240, 3) and np.all(prediction[:, 1] == 0)


def test_dense_early_stopping_keeps_the_views_of_one_image_on_one_side_of_its_inner_split():
    rng = np.random.default_rng(5)
    images = np.repeat(np.arange(100), 2)  # two views per image, stacked as FeatureHeadSpec stacks them
    targets = images % 2
    features = (rng.normal(size=(200, 8)) + targets[:, None]).astype(np.float32)
    train_rows, valid_rows = grouped_split(targets, images, 0.1, seed=0, stratify=True)
    assert not set(images[train_rows]) & set(images[valid_rows])
    assert len(valid_rows) == 20 and targets[valid_rows].mean() == 0.5
    head = DenseHead(epochs=30, patience=2, seed=0).fit(features, targets, groups=images)
    assert "val_loss" in head.history_


def test_an_unknown_task_or_a_wrong_output_count_is_refused():
    features, targets, _ = task_data("multiclass", np.random.default_rng(6))
    with pytest.raises(ValueError, match="unknown task"):
        LogisticHead(task="ordinal").fit(features, targets)
    with pytest.raises(ValueError, match="K >= 2 outputs"):
        DenseHead(task="multiclass", n_outputs=1).fit(features, targets)
