"""Optuna prunes a CRNN trial on its validation CTC loss after an epoch, not only after a whole fold."""

import tomllib

import numpy as np
import pytest

from comp import FitContext, TrialPruned
from competitions.captcha.demo import write_demo
from competitions.captcha.images import ImageStore
from competitions.captcha.reader import read_dataset
from competitions.captcha.spec import LEAN_CRNN, CrnnSpec
from tests.conftest import TINY_CAPTCHA_CONFIG

TINY = {**LEAN_CRNN, **tomllib.loads(TINY_CAPTCHA_CONFIG)["crnn"]}
CONFIG = {"epochs": 4, "steps_per_epoch": 2, "generator_workers": 0, "validation_images": 4, "fixed_fraction": 0.5,
          "thin_minus_fraction": 0.5, "predict_batch_size": 8}


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    dataset = read_dataset(write_demo(tmp_path_factory.mktemp("captcha"), n=8, seed=0, n_test=2))
    return CrnnSpec(name="crnn", train=ImageStore(dataset.train["path"]), expressions=dataset.train["label"],
                    test=ImageStore(dataset.test["path"]), config=CONFIG, params=TINY)


def test_the_fit_reports_each_epochs_validation_loss_and_stops_when_told_to_prune(spec):
    reports = []
    context = FitContext(seed=0, epoch_reporter=lambda epoch, loss: reports.append((epoch, loss)) or epoch == 1)
    with pytest.raises(TrialPruned, match="validation CTC loss after epoch 2"):
        spec.fit_fold(TINY, np.arange(4), np.arange(4, 8), context)
    assert [epoch for epoch, _ in reports] == [0, 1]  # epochs 3 and 4 never ran
    assert all(np.isfinite(loss) and loss > 0 for _, loss in reports)


def test_without_a_tuner_the_fit_runs_every_epoch(spec):
    result = spec.fit_fold(TINY, np.arange(4), np.arange(4, 8), FitContext(seed=0))
    assert len(result.history["val_loss"]) == CONFIG["epochs"]
