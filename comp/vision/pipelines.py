"""What every image ``tf.data`` pipeline of ``comp`` shares: one decoding, and tf.data's autotuning off.

With autotuning on, deleting an iterator waits for the autotuning thread's next wake-up, so every ``model.fit`` or
``predict`` call on a fresh dataset ended on the next multiple of about 10.24 s after its iterator started: an epoch of
640 dogs images that trained in 8.3 s returned after 10.26 s in 8 of 10 fits, one of 1,024 images after 20.5 s instead
of 13 (SqueezeNet, 2-core machine, TensorFlow 2.21). Fine-tuning calls ``fit`` once per epoch, so this cost up to half
of a short epoch. Without autotuning, parallel maps run one call per core and prefetch buffers grow as needed: the
same steps took the same 0.41 s each, and all ten fits returned when their last batch was done."""

from __future__ import annotations

import numpy as np

from comp._lazy import lazy_import

tf = lazy_import("tensorflow")


def without_autotuning(dataset):
    """``dataset`` with tf.data's autotuning switched off (see the module docstring for the measured reason)."""
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def decoded_image(path, size: tuple[int, int]):
    """The image file ``path`` (a string tensor) as float32 RGB (height, width, 3) in 0..255, resized bilinearly to
    ``size``: how extraction, fine-tuning and exported models all see an image."""
    image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
    return tf.image.resize(image, size)


def decoded_rows(paths, size: tuple[int, int], *, workers: int | None = None):
    """tf.data, unbatched: (row index, ``decoded_image``) for each of ``paths`` in order, decoded in a parallel map of
    ``workers`` calls (None: one per core); a file that cannot be decoded is skipped with its row."""
    dataset = tf.data.Dataset.from_tensor_slices((np.arange(len(paths), dtype=np.int64), np.asarray(paths, dtype=str)))
    return dataset.map(lambda row, path: (row, decoded_image(path, size)),
                       num_parallel_calls=workers or tf.data.AUTOTUNE, deterministic=True).ignore_errors()
