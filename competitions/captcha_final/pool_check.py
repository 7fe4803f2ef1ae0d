"""Has a fold network memorised its recombination pool? It reads recombinations of the pool it drew from at one
batch, recombinations of a pool it never saw, and fresh renders, and prints the CTC loss and greedy sequence
accuracy of each: a wide gap between the first two means the pool taught it little after a while (README,
"Training data").

    python -m competitions.captcha_final.pool_check --run RUN [--fold 0] [--batch B] [--n 160]

``--batch`` defaults to the fold's last training batch; batch 63 is the pool of 256 renders that runs before the
sliding pool drew from for their whole training.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from comp._lazy import lazy_import
from comp.engine import fold_seed
from comp.errors import CompError
from comp.io import Run, read_json
from competitions.captcha_final.cropping import crops_strip
from competitions.captcha_final.reading import CHARACTERS, decode_formulas
from competitions.captcha_final.renderer import stream_variation

keras = lazy_import("keras")
network = lazy_import("comp.sequence.network")  # imports Keras
formula_batches = lazy_import("competitions.captcha_final.batches")  # imports Keras

UNSEEN_POOL_SEED = 777  # no run fold draws from it unless its run seed makes fold_seed 777
NETWORK = "crnn"


def fold_directory(run: Run, fold: int) -> Path:
    """The finished fold's cache folder of the run's ``crnn`` spec (the tuned parameters' one, as scores.json says)."""
    key = run.read_json("scores.json", default={}).get("models", {}).get(NETWORK, {}).get("params_key")
    if key is None:
        raise CompError(f"{run.path} has no finished {NETWORK} model in scores.json; check a finished captcha-final "
                        f"run")
    directory = run.file("fold_cache", NETWORK, key, f"fold{fold}")
    if not (directory / "done.json").is_file():
        raise CompError(f"{directory} holds no finished fold {fold}; pass --fold with a fold the run trained")
    return directory


def reading_scores(model, strips: list[np.ndarray], texts: list[str]) -> dict:
    """{"images", "ctc_loss" (mean), "greedy_sequence_accuracy"} of ``model`` on (80, 900) strips and their texts."""
    logits = model.predict(np.stack(strips)[..., np.newaxis], batch_size=32, verbose=0)
    losses = keras.ops.convert_to_numpy(network.ctc_loss(CHARACTERS.encode(texts), logits))
    readings = decode_formulas(logits, "greedy")
    return {"images": len(texts), "ctc_loss": float(np.mean(losses)),
            "greedy_sequence_accuracy": float(np.mean(readings == np.asarray(texts)))}


def recombinations(seed: int, size: int, batch: int, n: int, variation) -> tuple[list[np.ndarray], list[str]]:
    """Up to ``n`` recombined (strip, formulas) samples of the pool that batch ``batch`` of seed ``seed`` drew from."""
    pool = formula_batches.SlidingPool(seed, size, [], variation)
    sources = pool.sources_for(batch)
    rng = random.Random(batch)
    samples = [sample for sample in (pool.crops.recombined(rng, sources) for _ in range(3 * n)) if sample][:n]
    return [strip for strip, _, _ in samples], [formulas for _, formulas, _ in samples]


def check_pool(run_dir: Path, *, fold: int = 0, batch: int | None = None, n: int = 160) -> dict:
    """{"trained_pool", "unseen_pool", "fresh_renders"}: each a ``reading_scores`` dict of the fold's network."""
    run = Run.open(run_dir, "captcha-final")
    config = run.config()["config"]
    directory = fold_directory(run, fold)
    history = read_json(directory / "done.json")["history"]
    batch = int(history["steps"]) - 1 if batch is None else batch
    model = network.load_network(directory / "model" / "crnn.keras", "captcha-final")
    variation = stream_variation(str(config.get("variation", "full")))
    size = int(config.get("recombination_pool", 256))
    seed = fold_seed(int(config["seed"]), fold)
    fresh_random = random.Random(seed + 1)
    fresh = [formula_batches.fresh_sample(fresh_random, variation) for _ in range(n)]
    return {"trained_pool": reading_scores(model, *recombinations(seed, size, batch, n, variation)),
            "unseen_pool": reading_scores(model, *recombinations(UNSEEN_POOL_SEED, size, batch, n, variation)),
            "fresh_renders": reading_scores(model, [crops_strip(crops) for _, crops in fresh],
                                            [text for text, _ in fresh])}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, required=True, help="a finished comp train captcha-final run")
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--batch", type=int, default=None, help="the training batch whose pool to read (default: last)")
    parser.add_argument("--n", type=int, default=160, help="images per set")
    arguments = parser.parse_args(argv)
    try:
        scores = check_pool(arguments.run, fold=arguments.fold, batch=arguments.batch, n=arguments.n)
    except CompError as error:
        raise SystemExit(f"error: {error}") from None
    for name, row in scores.items():
        print(f"{name:14s} {row['images']:4d} images  CTC loss {row['ctc_loss']:.3f}  "
              f"greedy sequence accuracy {row['greedy_sequence_accuracy']:.3f}")


if __name__ == "__main__":
    main()
