"""Every input pipeline of training, extraction and prediction runs with tf.data's autotuning off: with it on, each
``fit`` or ``predict`` on a fresh dataset returned only on the autotuner's next wake-up (up to 10 s late a call)."""

import numpy as np

from comp.vision.features import decoded_images
from comp.vision.finetune import Augmenter, labelled_batches, training_batches, view_batches


def test_training_validation_view_and_extraction_pipelines_do_not_autotune(tmp_path):
    paths = [str(tmp_path / "missing.png")]
    size = (8, 8)
    pipelines = {
        "training": training_batches(np.zeros((2, *size, 3), np.uint8), np.zeros(2, np.float32), seed=0, epoch=0,
                                     batch_size=2, augmenter=Augmenter(size, strength=0.5, colour_jitter=False)),
        "validation": labelled_batches(paths, np.zeros(1, np.float32), size, batch_size=2),
        "test view": view_batches(paths, size, "orig", batch_size=2),
        "extraction": decoded_images(paths, size, batch_size=2),
    }
    autotuned = [name for name, dataset in pipelines.items() if dataset.options().autotune.enabled is not False]
    assert autotuned == []
    first_batch, _ = next(iter(pipelines["training"]))
    assert first_batch.shape == (2, *size, 3)
