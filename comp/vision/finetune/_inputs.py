"""The fine-tuning input pipelines on ``tf.data``: augmented training batches (decoding and resizing in TensorFlow,
albumentations through ``tf.numpy_function``, in a parallel map, prefetched, so the cores prepare the next batches
while the network trains), and plain batches of one test-time view for validation and prediction. Images are
decoded and resized by the feature pipeline's function (``comp.vision.pipelines.decoded_image``), so an exported
network sees what it saw here. A file that cannot be decoded is skipped (training rows with such images were dropped
before; test rows get the mean prediction, as ``--allow-bad-test`` promises)."""

from __future__ import annotations

import numpy as np

from comp._lazy import lazy_import
from comp.vision.finetune._augment import Augmenter
from comp.vision.pipelines import decoded_rows, without_autotuning
from comp.vision.views import view_of

tf = lazy_import("tensorflow")


def sample_seeds(seed: int, epoch: int, count: int) -> tuple[np.ndarray, np.ndarray]:
    """(the order of the ``count`` training samples in ``epoch``, one augmentation seed per sample): both fixed by
    (seed, epoch), so a fit resumed at an epoch draws what the uninterrupted fit drew."""
    rng = np.random.default_rng([seed, epoch])
    return rng.permutation(count), rng.integers(0, 2**31 - 1, size=count, dtype=np.int64)


def decoded_training_images(paths: list[str], size: tuple[int, int], *, workers: int | None = None):
    """(the rows of ``paths`` that could be decoded (m,), their images uint8 (m, height, width, 3)): decoded and
    resized once per fit in a parallel map, so every epoch only augments: decoding and resizing a dogs JPEG took
    8.3 ms and augmenting it 7.0 ms (one thread, loaded 2-core machine), so redoing the decode each epoch more than
    doubled the input work beside the network. The price is height x width x 3 bytes of memory per training image
    (1,700 images at 227x227: 260 MB)."""
    dataset = decoded_rows(paths, size, workers=workers).map(
        lambda row, image: (row, tf.saturate_cast(tf.round(image), tf.uint8)),
        num_parallel_calls=workers or tf.data.AUTOTUNE, deterministic=True)
    rows, images = [], []
    for row_batch, image_batch in without_autotuning(dataset.batch(256).prefetch(1)):
        rows.append(row_batch.numpy())
        images.append(image_batch.numpy())
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, *size, 3), dtype=np.uint8)
    return np.concatenate(rows), np.concatenate(images)


def mixing_weights(seed: int, epoch: int, count: int, alpha: float) -> np.ndarray:
    """The share (count,) float32 in [0.5, 1] each training sample of ``epoch`` keeps of itself under mixup: the
    larger of a Beta(alpha, alpha) draw and its complement, so each sample stays the main part of its blend; fixed
    by (seed, epoch) apart from the order and augmentation draws, which mixup leaves as they were."""
    draws = np.random.default_rng([seed, epoch, 1]).beta(alpha, alpha, size=count)
    return np.maximum(draws, 1.0 - draws).astype(np.float32)


def mixed(images, targets, weights):
    """Mixup of one batch: each image and target (float (b,) or (b, K)) blended with the batch's mirror-order
    partner (row i with row b-1-i) by its weight (b,)."""
    image_weights = tf.reshape(weights, (-1, 1, 1, 1))
    target_weights = tf.reshape(weights, [-1] + [1] * (targets.shape.rank - 1))
    blended_images = image_weights * images + (1.0 - image_weights) * tf.reverse(images, axis=[0])
    return blended_images, target_weights * targets + (1.0 - target_weights) * tf.reverse(targets, axis=[0])


def training_batches(images: np.ndarray, targets: np.ndarray, *, seed: int, epoch: int, batch_size: int,
                     augmenter: Augmenter, workers: int | None = None, mixup: float = 0.0):
    """One epoch of augmented training batches from decoded ``images`` (uint8 (n, height, width, 3), as
    ``decoded_training_images`` gives them): (images float32 (b, height, width, 3) in 0..255, targets (b,) or
    (b, K)), in an order and with augmentations drawn from (seed, epoch). ``mixup`` > 0 blends each batch's images
    and (float) targets in pairs with weights from Beta(mixup, mixup) (``mixing_weights``). ``workers`` None lets
    tf.data choose how many images are augmented at once."""
    if mixup < 0:
        raise ValueError(f"mixup is the alpha of a Beta distribution and cannot be negative, not {mixup}")
    if mixup and not np.issubdtype(targets.dtype, np.floating):
        raise ValueError(f"mixup blends targets, so they must be floats (one-hot classes), not {targets.dtype}")
    order, seeds = sample_seeds(seed, epoch, len(images))
    height, width = augmenter.size

    def augment(index, sample_seed, target):
        image = tf.numpy_function(lambda row, row_seed: augmenter(images[row], row_seed), [index, sample_seed],
                                  tf.uint8, stateful=False)
        image.set_shape((height, width, 3))
        return image, target

    dataset = tf.data.Dataset.from_tensor_slices((order.astype(np.int64), seeds, targets[order]))
    batches = dataset.map(augment, num_parallel_calls=workers or tf.data.AUTOTUNE, deterministic=True).batch(
        batch_size).map(lambda batch, target: (tf.cast(batch, tf.float32), target))
    if mixup:
        weights = tf.data.Dataset.from_tensor_slices(mixing_weights(seed, epoch, len(images), mixup)).batch(batch_size)
        batches = tf.data.Dataset.zip(batches, weights).map(lambda pair, weight: mixed(*pair, weight))
    return without_autotuning(batches.prefetch(tf.data.AUTOTUNE))


def view_batches(paths: list[str], size: tuple[int, int], view: str, *, batch_size: int,
                 workers: int | None = None):
    """(row indices (b,), float32 images (b, height, width, 3) seen in ``view``) batches of ``paths`` in order;
    rows whose file cannot be decoded are missing."""
    dataset = decoded_rows(paths, size, workers=workers).batch(batch_size)
    return without_autotuning(dataset.map(lambda rows, images: (rows, view_of(images, view))).prefetch(
        tf.data.AUTOTUNE))


def labelled_batches(paths: list[str], targets: np.ndarray, size: tuple[int, int], *, batch_size: int):
    """(float32 images (b, height, width, 3), targets) batches of ``paths`` as they are (the early-stopping rows),
    decoded once and cached in memory; rows whose file cannot be decoded are left out."""
    targets = tf.constant(targets)
    dataset = decoded_rows(paths, size).map(lambda row, image: (image, tf.gather(targets, row)),
                                            num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return without_autotuning(dataset.batch(batch_size).cache().prefetch(tf.data.AUTOTUNE))
