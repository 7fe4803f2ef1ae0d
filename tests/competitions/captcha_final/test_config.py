"""The final round's defaults: the lean network on CPU cores, the seed's network and schedule on a GPU."""

from comp.io import config_layers, validate_config
from competitions.captcha_final import CaptchaFinalCompetition
from competitions.captcha_final.spec import SEED_346


def test_a_gpu_trains_three_of_the_seeds_346_networks_on_its_schedule_and_cpu_cores_the_lean_one():
    defaults = CaptchaFinalCompetition().default_config()
    on_gpu = validate_config(config_layers(defaults, gpu=True))
    assert on_gpu["models"] == ["seed_346"] and on_gpu["folds"] == 3  # three models vote, as the seed's did
    assert (SEED_346["schedule"], SEED_346["learning_rate"]) == ("seed", 1e-3)  # 1e-3 -> 1e-4 -> 1e-5
    assert validate_config(config_layers(defaults, gpu=False))["models"] == ["crnn"]
