"""The fine-tuning input pipelines on ``tf.data``: augmented training batches (decoding and resizing in TensorFlow,
albumentations through ``tf.numpy_function``, in a parallel map, prefetched, so the cores prepare the next batches
while the network trains), and plain batches of one test-time view for validation and prediction. Images are
decoded and resized as the feature pipeline and exported models do it (``tf.image.resize``, bilinear), so an exported
network sees what it saw here. A file that cannot be decoded is skipped (training rows with such images were dropped
before; test rows get the mean prediction, as ``--allow-bad-test`` promises)."""

from __future__ import annotations

import numpy as np

from comp._lazy import lazy_import
from comp.vision.finetune._augment import Augmenter
from comp.vision.views import view_of

tf = lazy_import("tensorflow")



def decoded(path, size: tuple[int, int]):
    """The image file ``path`` (a string tensor) as float32 RGB (height, width, 3) in 0..255, resized to ``size``."""
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return tf.image.resize(image, size)


def sample_seeds(seed: int, epoch: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(the order of the ``count`` training samples in ``epoch``, one augmentation seed per sample): both fixed by
    (seed, epoch), so a fit resumed at an epoch draws what the uninterrupted fit drew."""
    rng = np.random.default_rng([seed, epoch])
    return rng.permutation(count), rng.integers(0, 2**31 - 1, size=count, dtype=np.int64)


def training_batches(paths: list[str], targets: np.ndarray, *, seed: int, epoch: int, batch_size: int,
                     augmenter: Augmenter, workers: int | None = None):
    """One epoch of augmented training batches: (images float32 (b, height, width, 3) in 0..255, targets (b,) or
    (b, K)), in an order and with augmentations drawn from (seed, epoch). ``workers`` None lets tf.data choose how
    many images are prepared at once."""
    order, seeds = sample_seeds(seed, epoch, len(paths))
    height, width = augmenter.size

    def augment(path, sample_seed, target):
        resized = tf.saturate_cast(tf.round(decoded(path, augmenter.size)), tf.uint8)
        image = tf.numpy_function(augmenter, [resized, sample_seed], tf.uint8, stateful=False)
        image.set_shape((height, width, 3))
        return image, target

    dataset = tf.data.Dataset.from_tensor_slices((np.asarray(paths, dtype=str)[order], seeds, targets[order]))
    dataset = dataset.map(augment, num_parallel_calls=workers or tf.data.AUTOTUNE, deterministic=True).ignore_errors()
    return dataset.batch(batch_size).map(lambda images, target: (tf.cast(images, tf.float32), target)).prefetch(
        tf.data.AUTOTUNE)


def view_batches(paths: list[str], size: tuple[int, int], view: str, *, batch_size: int,
                 workers: int | None = None):
    """(row indices (b,), float32 images (b, height, width, 3) seen in ``view``) batches of ``paths`` in order;
    rows whose file cannot be decoded are missing."""
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(paths), dtype=np.int64), np.asarray(paths, dtype=str)))
    dataset = dataset.map(lambda row, path: (row, decoded(path, size)), num_parallel_calls=workers or tf.data.AUTOTUNE,
                          deterministic=True).ignore_errors().batch(batch_size)
    return dataset.map(lambda rows, images: (rows, view_of(images, view))).prefetch(tf.data.AUTOTUNE)


def labelled_batches(paths: list[str], targets: np.ndarray, size: tuple[int, int], *, batch_size: int):
    """(float32 images (b, height, width, 3), targets) batches of ``paths`` as they are (the early-stopping rows),
    decoded once and cached in memory; rows whose file cannot be decoded are left out."""
    dataset = tf.data.Dataset.from_tensor_slices((np.asarray(paths, dtype=str), targets))
    dataset = dataset.map(lambda path, target: (decoded(path, size), target), num_parallel_calls=tf.data.AUTOTUNE,
                          deterministic=True).ignore_errors()
    return dataset.batch(batch_size).cache().prefetch(tf.data.AUTOTUNE)
