"""``comp bench captcha-final`` on a tiny setting: every stage's figure is there, positive, with its unit in its key."""

import json

import pytest

from competitions.captcha_final.bench import run_benchmark
from competitions.captcha_final.demo import write_demo

TINY_NETWORK = {"conv_widths": "4-8-8", "dense_units": 8, "gru_units": 8, "gru_layers": 1}
RATES = ("preprocess_images_per_s_per_core", "crop_images_per_s_per_core", "render_stream_images_per_s_one_core",
         "predict_images_per_s", "greedy_decode_ms_per_image", "grammar_decode_ms_per_image_random_network",
         "grammar_decode_ms_per_image_spelled_logits", "train_images_per_s_stream", "train_images_per_s_in_memory")


@pytest.mark.slow  # renders, crops, builds and traces a network, decodes: about 30 s on two loaded CPU cores
def test_the_bench_measures_every_stage_on_rendered_images_and_on_a_folder(tmp_path):
    config = {"crnn": {**TINY_NETWORK, "batch_size": 4}, "predict_batch_size": 4, "beam_width": 4,
              "recombination_pool": 8, "generator_workers": 0}
    result = run_benchmark(None, config, images=3, predict_images=6, decode_images=2, train_steps=2)
    json.dumps(result)  # JSON-ready
    assert all(result[key] > 0 for key in (*RATES, "render_images_per_s_one_core")), result
    assert result["predict_batch_size"] == 4 and result["predict_images"] == 6 and result["beam_width"] == 4
    assert result["preprocess_images_without_text_region"] == 0
    assert result["weights"].startswith("random initialisation")
    assert result["train_batch_size"] == 4 and result["train_steps"] == 2
    assert result["machine"]["host_allocator"] == "best-fit"  # what importing comp selects
    folder = write_demo(tmp_path / "data", n=2, seed=1)
    from_folder = run_benchmark(folder, config, images=3, predict_images=2, decode_images=2, train_steps=1)
    assert from_folder["images"] == str(folder) and from_folder["render_images_per_s_one_core"] is None
    assert all(from_folder[key] > 0 for key in RATES)
    with pytest.raises(ValueError, match="at least one image per stage"):
        run_benchmark(None, config, images=0)
    with pytest.raises(ValueError, match="train_steps=0"):
        run_benchmark(None, config, train_steps=0)
