"""Rendering: seeded and reproducible, a thin minus beside the library's thick one, demo sets, training batches."""

import numpy as np

from competitions.captcha.batches import CaptchaBatches
from competitions.captcha.demo import write_demo
from competitions.captcha.generator import Renderer
from competitions.captcha.images import to_array
from competitions.captcha.model import decode, encode_labels
from competitions.captcha.reader import read_dataset


def darkness(image) -> float:
    grey = np.asarray(image.convert("L"), dtype=float)
    return float(np.clip(np.median(grey) - grey, 0, None).sum())


def test_equal_seeds_draw_equal_images_and_other_seeds_do_not():
    renderer = Renderer()
    first = np.asarray(renderer.render("(3-5)*2", seed=1, thin_minus=True))
    assert first.shape == (60, 180, 3)
    assert np.array_equal(first, np.asarray(Renderer().render("(3-5)*2", seed=1, thin_minus=True)))
    assert not np.array_equal(first, np.asarray(renderer.render("(3-5)*2", seed=2, thin_minus=True)))


def test_thin_minus_draws_less_ink_than_the_librarys_warped_minus():
    renderer = Renderer()
    thin = sum(darkness(renderer.render("-8-", seed=seed, thin_minus=True)) for seed in range(12))
    stock = sum(darkness(renderer.render("-8-", seed=seed, thin_minus=False)) for seed in range(12))
    assert thin < 0.8 * stock


def test_demo_writes_the_layout_and_a_small_set_starts_a_larger_one(tmp_path):
    small = read_dataset(write_demo(tmp_path / "small", n=3, seed=5))
    large = read_dataset(write_demo(tmp_path / "large", n=5, seed=5, n_test=2))
    assert small.train["label"].tolist() == large.train["label"].tolist()[:3]
    assert (tmp_path / "small" / "0.png").read_bytes() == (tmp_path / "large" / "0.png").read_bytes()
    assert len(large.test) == 2 and small.test.empty


def test_training_batches_are_seeded_by_index_and_mix_fixed_rows():
    fixed_images = np.full((3, 60, 180, 1), 7, dtype=np.uint8)
    fixed_expressions = np.array(["1+1", "2*2", "(3-3)*3"])
    batches = CaptchaBatches(seed=4, batch_size=6, channels=1, fixed_images=fixed_images,
                             fixed_expressions=fixed_expressions, fixed_fraction=0.5, workers=0)
    images, labels = batches[0]
    assert images.shape == (6, 60, 180, 1) and images.dtype == np.uint8 and labels.shape == (6, 16)
    assert (images[:3] == 7).all() and not (images[3:] == 7).all()
    assert set(decode_labels(labels[:3])) <= set(fixed_expressions)
    again_images, again_labels = CaptchaBatches(seed=4, batch_size=6, channels=1, fixed_images=fixed_images,
                                                fixed_expressions=fixed_expressions, fixed_fraction=0.5)[0]
    assert np.array_equal(images, again_images) and np.array_equal(labels, again_labels)
    assert not np.array_equal(batches[1][0], images)


def test_generated_batches_without_fixed_rows_are_all_new_captchas_of_valid_expressions():
    images, labels = CaptchaBatches(seed=0, batch_size=4, channels=3)[0]
    assert images.shape == (4, 60, 180, 3)
    assert all(len(expression) in (5, 7) for expression in decode_labels(labels))


def test_pictures_of_other_sizes_are_resized_to_the_network_input():
    from PIL import Image

    assert to_array(Image.new("RGB", (90, 30), "white"), 1).shape == (60, 180, 1)


def decode_labels(labels: np.ndarray) -> list[str]:
    """Encoded labels back to text through the network's decoder (one-hot logits with blanks between)."""
    steps = 2 * labels.shape[1] + 1
    logits = np.zeros((len(labels), steps, 16), dtype=np.float32)
    logits[:, :, 0] = 1.0
    for row, classes in enumerate(labels):
        for position, value in enumerate(classes[classes > 0]):
            logits[row, 2 * position + 1, value] = 2.0
    texts = decode(logits).tolist()
    assert np.array_equal(encode_labels(texts), labels)
    return texts
