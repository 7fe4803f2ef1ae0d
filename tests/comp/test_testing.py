"""``comp.testing.check_competition``: the toy plugin passes, and each way of breaking the contract is named."""

import sys

import numpy as np
import pytest

from comp import Dataset, FoldResult
from comp.testing import check_competition


@pytest.fixture
def toy(toy_competition):
    """The toy plugin's module (ToyCompetition, LogisticSpec, ...), to break one hook at a time."""
    return sys.modules[type(toy_competition).__module__]


def test_the_toy_plugin_keeps_the_contract(toy_competition, tmp_path):
    check_competition(toy_competition, tmp_path, n=60)
    assert (tmp_path / "data" / "train.csv").exists()  # its own demo data, written where it was told


def fitting_only(toy, spec_class):
    """The toy competition with one model: ``spec_class`` on its dataset."""
    class Competition(toy.ToyCompetition):
        def models(self, context):
            return [spec_class(context.dataset)]
    return Competition


def broken_fit(toy):
    class ShortSpec(toy.LogisticSpec):
        def fit_fold(self, params, train_index, valid_index, context):
            result = super().fit_fold(params, train_index, valid_index, context)
            return FoldResult(result.valid_prediction[:-1], result.test_prediction, result.model)
    return fitting_only(toy, ShortSpec)


def duplicate_names(toy):
    class Competition(toy.ToyCompetition):
        def models(self, context):
            return [toy.LogisticSpec(context.dataset), toy.LogisticSpec(context.dataset)]
    return Competition


def noisy_fit(toy):
    class NoisySpec(toy.LogisticSpec):
        def fit_fold(self, params, train_index, valid_index, context):
            result = super().fit_fold(params, train_index, valid_index, context)
            jitter = np.random.default_rng().uniform(1e-3, 2e-3)  # not seeded from context.seed
            return FoldResult(result.valid_prediction + jitter, result.test_prediction, result.model)
    return fitting_only(toy, NoisySpec)


def mixed_ids(toy):
    class Competition(toy.ToyCompetition):
        def read(self, data_dir, config):
            dataset = super().read(data_dir, config)
            dataset.train["id"] = [str(value) if value % 2 else int(value) for value in dataset.train["id"]]
            return dataset
    return Competition


def unlabelled_train(toy):
    class Competition(toy.ToyCompetition):
        def read(self, data_dir, config):
            dataset = super().read(data_dir, config)
            return Dataset(data_dir=dataset.data_dir, train=dataset.train.drop(columns="label"), test=dataset.test)
    return Competition


def empty_fold(toy):
    class Competition(toy.ToyCompetition):
        def folds(self, dataset, n_folds, seed):
            return super().folds(dataset, n_folds, seed) % (n_folds - 1)
    return Competition


def forgetful_model(toy):
    class ForgetfulSpec(toy.LogisticSpec):
        def load_model(self, directory):
            model = super().load_model(directory)
            model.coef_ = model.coef_ * 2
            return model
    return fitting_only(toy, ForgetfulSpec)


def out_of_range_submission(toy):
    class OverconfidentSpec(toy.LogisticSpec):
        def postprocess(self, prediction):
            return prediction * 3
    return fitting_only(toy, OverconfidentSpec)


@pytest.mark.parametrize("breakage, message", [
    (broken_fit, "toy: logistic.fit_fold returned a bad fold: logistic fold 0: valid_prediction has shape"),
    (duplicate_names, "toy: models returned two specs named 'logistic'; names must be unique in a run"),
    (noisy_fit, "toy: logistic.fit_fold is not deterministic: two fits of fold 0 with seed 42000 differ in "
                "valid_prediction at row"),
    (mixed_ids, "toy: read mixes string and integer train ids"),
    (unlabelled_train, "toy: read gave a train table without the 'label' column"),
    (empty_fold, "toy: folds left fold 4 of 5 without rows"),
    (forgetful_model, "toy: logistic.save_model/load_model do not round-trip: the loaded model's predict_test differs"),
    (out_of_range_submission, "toy: write_submission raised CompError: submission column 'label' has value"),
])
def test_a_broken_hook_is_named_in_one_line(toy, tmp_path, breakage, message):
    with pytest.raises(AssertionError) as error:
        check_competition(breakage(toy)(), tmp_path, n=60)
    assert str(error.value).startswith(message), str(error.value)
    assert "\n" not in str(error.value)
