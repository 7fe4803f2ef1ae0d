import json

import pytest

from comp import CompError
from comp.cli import main
from comp.io import config_layers, parse_weights, resolve_config, validate_config
from tests.conftest import run_comp


def test_flags_override_config_file_which_overrides_competition_defaults(tmp_path):
    config_file = tmp_path / "mine.toml"
    config_file.write_text('folds = 3\ntrials = 7\n[weights]\nvgg16 = "a.h5"\n')
    resolved = resolve_config({"folds": 5, "trials": 20, "seed": 1, "weights": {"resnet50": "none"}},
                              config_file=config_file, flags={"trials": 2, "seed": None,
                                                              "weights": {"vgg16": "b.h5"}})
    assert resolved["folds"] == 3  # file beats the competition default
    assert resolved["trials"] == 2  # flag beats the file
    assert resolved["seed"] == 1  # an unset flag keeps the layer below
    assert resolved["weights"] == {"resnet50": "none", "vgg16": "b.h5"}  # merged per backbone


def test_a_config_file_table_overrides_only_the_keys_it_sets(tmp_path):
    config_file = tmp_path / "c.toml"
    config_file.write_text("[unet]\nepochs = 20\n")
    resolved = resolve_config({"unet": {"epochs": 12, "steps_per_epoch": 45}, "models": ["unet", "fcn8s"]},
                              config_file=config_file, flags={"models": ["unet"]})
    assert resolved["unet"] == {"epochs": 20, "steps_per_epoch": 45}
    assert resolved["models"] == ["unet"]  # lists are values, replaced whole


def test_the_with_gpu_table_replaces_the_competitions_defaults_only_where_a_gpu_is_visible_and_under_the_user(
        tmp_path):
    defaults = {"folds": 3, "models": ["crnn"], "crnn": {"batch_size": 32}, "with_gpu": {"models": ["seed_346"]}}
    on_cpu = validate_config(config_layers(defaults, gpu=False))
    assert on_cpu["models"] == ["crnn"] and "with_gpu" not in on_cpu
    assert validate_config(config_layers(defaults, gpu=True))["models"] == ["seed_346"]
    config_file = tmp_path / "mine.toml"
    config_file.write_text('models = ["crnn"]\n')
    assert validate_config(config_layers(defaults, config_file=config_file, gpu=True))["models"] == ["crnn"]  # the user's
    assert validate_config(config_layers(defaults, gpu=True, flags={"folds": 2}))["folds"] == 2
    with pytest.raises(CompError, match=r"`modles` in \[with_gpu\] of the competition's config.toml"):
        validate_config(config_layers({**defaults, "with_gpu": {"modles": ["seed_346"]}}, gpu=True))


def test_bad_config_file_and_bad_weights_flag_are_one_line_errors(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("folds = = 3")
    with pytest.raises(CompError, match="not valid TOML"):
        resolve_config({}, config_file=broken)
    with pytest.raises(CompError, match="does not exist"):
        resolve_config({}, config_file=tmp_path / "absent.toml")
    with pytest.raises(CompError, match="NAME=PATH"):
        parse_weights(["vgg16"])
    assert parse_weights(["vgg16=/w/v.h5", "resnet50=none"]) == {"vgg16": "/w/v.h5", "resnet50": "none"}


def test_the_resolved_config_is_saved_in_the_run(tmp_path, toy_plugin_site):
    data = tmp_path / "data"
    env = {"PYTHONPATH": str(toy_plugin_site)}
    assert run_comp("demo", "toy", "--out", str(tmp_path / "demo"), "--n", "60", env=env).returncode == 0
    config_file = tmp_path / "toy.toml"
    config_file.write_text("folds = 4\ntrials = 9\n")
    result = run_comp("train", "toy", "--data", str(tmp_path / "demo" / "toy"), "--config", str(config_file),
                      "--trials", "3", "--out", str(tmp_path / "run"), cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["config"]["folds"] == 4 and saved["config"]["trials"] == 3 and saved["config"]["seed"] == 42
    assert saved["provenance"]["versions"]["optuna"]
    assert not data.exists()


def test_unknown_flag_lists_the_valid_ones():
    result = run_comp("train", "dogs", "--foldz", "3")
    assert result.returncode == 2
    assert "unrecognized arguments: --foldz" in result.stderr and "--folds" in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_every_verb_has_help(capsys):
    for verb in ("list", "demo", "data", "train", "predict", "submit", "report", "export", "bench"):
        with pytest.raises(SystemExit) as exit_status:  # in-process: every run_comp test runs the console script
            main([verb, "--help"])
        assert exit_status.value.code == 0 and "usage: comp" in capsys.readouterr().out, verb
