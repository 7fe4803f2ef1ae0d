import numpy as np
import pytest

from comp.vision.heads import DenseHead, LogisticHead


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
