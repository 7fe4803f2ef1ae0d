"""``comp bench captcha-final``: the speed of each stage, as one JSON-ready dict.

- preprocessing: image files (PNG) decoded and cropped into their 80x900 strips in one process with OpenCV held to
  one thread, i.e. images/s per core (``preprocess_workers`` processes multiply it); the crop alone on decoded
  pictures beside it;
- rendering: captchas drawn per second on one core, on the competition's canvases and on the training stream's
  smaller ones;
- training: images/s of the lean CRNN fed by the training stream as ``comp train`` feeds it (generator worker,
  crop pool filling 4 renders a batch, as in a fit's first minutes), and on one batch held in memory
  (``train_on_batch``): their ratio says how much the stream's rendering, on the same cores, slows training (the
  host allocator in use, which comp sets to TensorFlow's best-fit one, is in the ``machine`` facts);
- prediction: strips/s through the lean CRNN at the config's ``predict_batch_size`` (all cores). Its weights are a
  random initialisation: speed does not depend on the weights;
- decoding: milliseconds per image, greedy and the grammar beam. The random network's outputs are the beam's worst
  case (many characters pass its floor at every step); logits spelling the true formulas with noise stand for a
  trained network's.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from comp._lazy import lazy_import
from comp.io import machine
from comp.sequence import numbered_pngs
from competitions.captcha_final.demo import draw_image
from competitions.captcha_final.formulas import random_formulas
from competitions.captcha_final.reader import LAYOUT
from competitions.captcha_final.reading import decode_formulas, spelled_logits
from competitions.captcha_final.renderer import STREAM_VARIATION, render_captcha, stream_variation
from competitions.captcha_final.spec import LEAN_CRNN, build_network
from competitions.captcha_final.streams import BENCH_STREAM, stream_random
from competitions.captcha_final.strips import strip_of_image, strips_of_files

keras = lazy_import("keras")
network = lazy_import("comp.sequence.network")  # imports Keras
formula_batches = lazy_import("competitions.captcha_final.batches")  # imports Keras

PEAKED_NOISE = 1.0  # standard deviation of the noise on the logits that spell the true formulas


def per_second(count: int, seconds: float) -> float:
    return round(count / max(seconds, 1e-9), 2)


def rendered_files(folder: Path, count: int) -> tuple[list[str], list[str], float]:
    """(paths, formulas, seconds spent rendering) of ``count`` captchas of the competition's sizes written as PNG."""
    paths, formulas, seconds = [], [], 0.0
    for index in range(count):
        started = time.perf_counter()
        captcha = draw_image(BENCH_STREAM, 0, index)
        seconds += time.perf_counter() - started
        path = folder / f"{index}.png"
        cv2.imwrite(str(path), cv2.cvtColor(captcha.image, cv2.COLOR_RGB2BGR))
        paths.append(str(path))
        formulas.append(captcha.formulas)
    return paths, formulas, seconds


def stream_render_rate(count: int) -> float:
    """Captchas drawn per second on one core on the training stream's canvases (its full variation)."""
    started = time.perf_counter()
    for index in range(count):
        rng = stream_random(BENCH_STREAM, 1, index)
        render_captcha(random_formulas(rng), rng, STREAM_VARIATION)
    return per_second(count, time.perf_counter() - started)


def preprocessing_rates(paths: list[str]) -> tuple[float, float, np.ndarray, int]:
    """(files -> strips images/s, crop-only images/s, the (n, 80, 900) strips, images without a text region found),
    one process, OpenCV on one thread."""
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        started = time.perf_counter()
        strips, problems = strips_of_files(paths, workers=0)
        files_seconds = time.perf_counter() - started
        pictures = [cv2.cvtColor(cv2.imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB) for path in paths]
        started = time.perf_counter()
        for picture in pictures:
            try:
                strip_of_image(picture)
            except ValueError:  # NoTextRegion: counted in problems above
                pass
        crop_seconds = time.perf_counter() - started
    finally:
        cv2.setNumThreads(threads)
    return per_second(len(paths), files_seconds), per_second(len(paths), crop_seconds), strips, len(problems)


def training_rates(params: dict, config: dict, steps: int) -> dict:
    """Training images/s over ``steps`` steps (after one traced step) of a fresh lean CRNN: fed by the training
    stream (``config``'s generator workers, recombination share and variation) and on the stream's first batch
    held in memory."""
    batch_size = int(params["batch_size"])
    step_ends: list[float] = []
    timer = keras.callbacks.LambdaCallback(on_train_batch_end=lambda *_, **__: step_ends.append(time.perf_counter()))
    with tempfile.TemporaryDirectory(prefix="captcha-final-bench-pool-") as pool_store:
        stream = formula_batches.FormulaBatches(
            seed=BENCH_STREAM, batch_size=batch_size,
            recombined_fraction=float(config.get("recombined_fraction", 0.5)),
            pool_size=int(config.get("recombination_pool", 256)), workers=int(config.get("generator_workers", 1)),
            variation=stream_variation(str(config.get("variation", "full"))), pool_store=Path(pool_store))
        model = network.compile_crnn(build_network(params), learning_rate=float(params["learning_rate"]))
        model.fit(stream, epochs=1, steps_per_epoch=steps + 1, callbacks=[timer], verbose=0)
        stream_seconds = step_ends[-1] - step_ends[0]
        images, labels = stream[0]
    model.train_on_batch(images, labels)
    started = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(images, labels)
    memory_seconds = time.perf_counter() - started
    stream_rate = per_second(steps * batch_size, stream_seconds)
    memory_rate = per_second(steps * batch_size, memory_seconds)
    return {"train_batch_size": batch_size, "train_steps": steps,
            "train_images_per_s_stream": stream_rate, "train_images_per_s_in_memory": memory_rate,
            "train_stream_ratio": round(stream_rate / memory_rate, 3)}


def decoding_ms(logits: np.ndarray, decoder: str, beam_width: int) -> float:
    """Milliseconds per image decoding (n, steps, classes) ``logits`` with ``decoder``."""
    started = time.perf_counter()
    decode_formulas(logits, decoder, beam_width)
    return round(1000 * (time.perf_counter() - started) / len(logits), 3)


def run_benchmark(data_dir: Path | None, config: dict, *, images: int = 64, predict_images: int = 256,
                  decode_images: int = 64, train_steps: int = 20) -> dict:
    """Every captcha-final speed figure (module docstring) on ``images`` pictures: ``data_dir``'s N.png files when
    given, else freshly rendered ones of the competition's sizes."""
    if images < 1 or predict_images < 1 or decode_images < 1 or train_steps < 1:
        raise ValueError(f"the bench needs at least one image per stage, got images={images}, "
                         f"predict_images={predict_images}, decode_images={decode_images}, train_steps={train_steps}")
    params = {**LEAN_CRNN, **config.get("crnn", {})}
    batch = int(config.get("predict_batch_size", 64))
    beam_width = int(config.get("beam_width", 8))
    with tempfile.TemporaryDirectory(prefix="captcha-final-bench-") as scratch:
        listed = numbered_pngs(Path(data_dir), LAYOUT)["path"].tolist()[:images] if data_dir is not None else []
        if listed:
            paths, formulas, render_seconds, source = listed, [], None, str(data_dir)
        else:
            paths, formulas, render_seconds = rendered_files(Path(scratch), images)
            source = f"{images} rendered captchas of the competition's sizes (400-1000 x 800-4000)"
        preprocess_rate, crop_rate, strips, no_text = preprocessing_rates(paths)
    model = build_network(params)
    inputs = np.resize(strips, (predict_images, *strips.shape[1:]))[..., np.newaxis]
    model.predict(inputs[:batch], batch_size=batch, verbose=0)  # trace outside the timing
    started = time.perf_counter()
    logits = model.predict(inputs, batch_size=batch, verbose=0)
    predict_seconds = time.perf_counter() - started
    random_outputs = np.resize(logits, (decode_images, *logits.shape[1:]))
    truths = formulas or [random_formulas(stream_random(BENCH_STREAM, 2, index)) for index in range(decode_images)]
    spelled = spelled_logits([truths[index % len(truths)] for index in range(decode_images)], PEAKED_NOISE,
                             np.random.default_rng(0))
    return {
        "images": source,
        "machine": machine(),
        "preprocess_images_per_s_per_core": preprocess_rate,
        "crop_images_per_s_per_core": crop_rate,
        "preprocess_images_without_text_region": no_text,
        "render_images_per_s_one_core": per_second(images, render_seconds) if render_seconds else None,
        "render_stream_images_per_s_one_core": stream_render_rate(min(images, 32)),
        "model": {key: params[key] for key in ("downsample", "conv_widths", "convs_per_block", "gru_units")},
        "parameters": model.count_params(),
        "weights": "random initialisation (speed does not depend on the weights)",
        "predict_batch_size": batch,
        "predict_images": predict_images,
        "predict_images_per_s": per_second(predict_images, predict_seconds),
        "beam_width": beam_width,
        "greedy_decode_ms_per_image": decoding_ms(random_outputs, "greedy", beam_width),
        "grammar_decode_ms_per_image_random_network": decoding_ms(random_outputs, "grammar", beam_width),
        "grammar_decode_ms_per_image_spelled_logits": decoding_ms(spelled, "grammar", beam_width),
        "spelled_logits_noise": PEAKED_NOISE,
        **training_rates(params, config, train_steps),
    }
