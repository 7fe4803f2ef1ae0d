"""``comp bench``'s fine-tuning figures: training images/s through the augmented ``tf.data`` pipeline (an epoch after
the fit's one decoding pass, which is timed apart) against the same network's ``train_on_batch`` on decoded in-memory
tensors (a ratio near 1 says augmentation does not starve the network), and the peak resident memory."""

from __future__ import annotations

import math
import resource
import time

import numpy as np

from comp._lazy import lazy_import
from comp.vision.backbones import get_backbone, resolve_weights
from comp.vision.features import distribution_strategy, precision_policy
from comp.vision.finetune._augment import Augmenter
from comp.vision.finetune._inputs import decoded_training_images, training_batches
from comp.vision.finetune._network import build_network, prepare_phase

tf = lazy_import("tensorflow")


def finetune_throughput(paths: list[str], backbone_name: str, weights_source: str, *,
                        input_size: tuple[int, int] | None = None, batch_size: int = 32, strength: float = 0.5,
                        colour_jitter: bool = False, mixed_precision: bool = False, xla: bool = False) -> dict:
    """Images/s of phase-2 training (the whole backbone unfrozen) on ``paths`` through the augmented pipeline and
    through ``train_on_batch`` on the same images decoded in memory, each after a warm-up batch; and the seconds of
    the decoding pass a fit makes once."""
    backbone = get_backbone(backbone_name)
    size = tuple(input_size or backbone.input_size)
    targets = np.zeros(len(paths), dtype=np.float32)
    augmenter = Augmenter(size, strength=strength, colour_jitter=colour_jitter)
    with precision_policy(mixed_precision), distribution_strategy().scope():
        model = build_network(backbone, resolve_weights(backbone, weights_source), size, task="binary", n_outputs=1,
                              dropout=0.2, seed=0)
        prepare_phase(model, phase=2, unfreeze="all", learning_rate=1e-4, task="binary", jit_compile=xla)
    started = time.perf_counter()
    _, decoded = decoded_training_images(paths, size)
    decode_seconds = time.perf_counter() - started
    warm = training_batches(decoded[:batch_size], targets[:batch_size], seed=0, epoch=0, batch_size=batch_size,
                            augmenter=augmenter)
    model.fit(warm, epochs=1, verbose=0)
    batches = training_batches(decoded, targets, seed=0, epoch=1, batch_size=batch_size, augmenter=augmenter)
    started = time.perf_counter()
    model.fit(batches, epochs=1, verbose=0)
    pipeline_seconds = time.perf_counter() - started
    images = decoded.astype(np.float32)
    model.train_on_batch(images[:batch_size], targets[:batch_size])
    started = time.perf_counter()
    for batch in range(math.ceil(len(paths) / batch_size)):
        rows = slice(batch * batch_size, (batch + 1) * batch_size)
        model.train_on_batch(images[rows], targets[rows])
    memory_seconds = time.perf_counter() - started
    return {"backbone": backbone_name, "weights": weights_source, "input_size": list(size), "images": len(paths),
            "batch_size": batch_size, "augmentation_strength": strength, "colour_jitter": colour_jitter,
            "decode_once_images_per_s": round(len(paths) / decode_seconds, 1),
            "pipeline_images_per_s": round(len(paths) / pipeline_seconds, 1),
            "in_memory_train_on_batch_images_per_s": round(len(paths) / memory_seconds, 1),
            "ratio": round(memory_seconds / pipeline_seconds, 3), "mixed_precision": mixed_precision, "xla": xla,
            "gpus": len(tf.config.list_physical_devices("GPU")),
            "peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
