"""``comp bench captcha``: prediction images/s (batch 256, decoding included), CTC decoding alone, drawing and
training images/s of the default (lean) CRNN with random weights — speed does not depend on the weights.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.io import machine
from competitions.captcha.generator import Renderer, draw_examples, stream_random
from competitions.captcha.images import load_images, to_array
from competitions.captcha.reader import numbered_images
from competitions.captcha.spec import LEAN_CRNN, architecture

crnn = lazy_import("competitions.captcha.model")  # imports Keras
network = lazy_import("comp.sequence.network")  # imports Keras

PREDICT_BATCH = 256


def _images(data_dir: Path | None, count: int, channels: int) -> tuple[np.ndarray, str]:
    """``count`` pictures from ``data_dir``'s N.png (repeated when fewer) or freshly drawn ones."""
    if data_dir is not None:
        paths = numbered_images(Path(data_dir))["path"].tolist()
        if paths:
            images, _ = load_images((paths * (count // len(paths) + 1))[:count], channels)
            return images, str(data_dir)
    drawn = draw_examples(Renderer(), stream_random(0, 0, 0), count)
    return np.stack([to_array(image, channels) for image, _ in drawn]), "generated"


def drawing_rate(count: int = 200) -> float:
    """Captchas drawn per second on one core (the training generator's cost per image)."""
    started = time.perf_counter()
    for _ in draw_examples(Renderer(), stream_random(0, 0, 1), count):
        pass
    return count / (time.perf_counter() - started)


def run_benchmark(data_dir: Path | None, config: dict, *, images: int = 1024, train_steps: int = 5) -> dict:
    """Every captcha measurement as one JSON-ready dict."""
    params = {**LEAN_CRNN, **config.get("crnn", {})}
    model = crnn.build_crnn(**architecture(params))
    pictures, source = _images(data_dir, images, int(params["channels"]))
    model.predict(pictures[:PREDICT_BATCH], batch_size=PREDICT_BATCH, verbose=0)  # trace outside the timing
    started = time.perf_counter()
    logits = model.predict(pictures, batch_size=PREDICT_BATCH, verbose=0)
    forward_seconds = time.perf_counter() - started
    started = time.perf_counter()
    crnn.decode(logits)
    decode_seconds = time.perf_counter() - started
    batch = int(params["batch_size"])
    network.compile_crnn(model, learning_rate=float(params["learning_rate"]))
    labels = crnn.encode_labels(["(3-5)*2"] * batch)
    model.train_on_batch(pictures[:batch], labels)
    started = time.perf_counter()
    for step in range(train_steps):
        model.train_on_batch(pictures[step * batch:(step + 1) * batch], labels)
    train_seconds = time.perf_counter() - started
    return {
        "images": source,
        "model": {key: params[key] for key in ("channels", "downsample", "conv_widths", "gru_units")},
        "parameters": model.count_params(),
        "machine": machine(),
        "predict_images_per_s": round(len(pictures) / (forward_seconds + decode_seconds), 1),
        "predict_batch_size": PREDICT_BATCH,
        "decode_seconds": round(decode_seconds, 4),
        "decode_images_per_s": round(len(pictures) / decode_seconds, 1),
        "train_images_per_s": round(train_steps * batch / train_seconds, 1),
        "draw_images_per_s_one_core": round(drawing_rate(), 1),
    }
