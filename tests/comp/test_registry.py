import logging
from importlib import metadata

import pytest

from comp import CompError, list_competitions, register_competition
from comp.contract import Competition
from comp.registry import ENTRY_POINT_GROUP, create_competition, get_competition_class
from tests.conftest import run_comp


def test_builtin_dogs_is_registered_through_its_entry_point():
    assert "dogs" in list_competitions()
    assert get_competition_class("dogs").kaggle_slug == "dogs-vs-cats-redux-kernels-edition"
    assert list_competitions("do*") == ["dogs"]


def test_unknown_competition_is_a_one_line_error_listing_the_known_ones():
    with pytest.raises(CompError) as error:
        create_competition("cats")
    message = str(error.value)
    assert "unknown competition 'cats'" in message and "dogs" in message and "\n" not in message


def test_decorator_needs_a_name_and_refuses_a_second_class_under_the_same_name():
    with pytest.raises(TypeError):
        register_competition(type("Nameless", (Competition,), {}))
    with pytest.raises(TypeError, match="already registered"):
        register_competition(type("OtherDogs", (Competition,), {"name": "dogs"}))


def test_plugin_installed_with_pip_appears_in_comp_list(toy_plugin_site):
    listed = run_comp("list", env={"PYTHONPATH": str(toy_plugin_site)})
    assert listed.returncode == 0, listed.stderr
    names = [line.split()[0] for line in listed.stdout.splitlines()[1:]]
    assert "toy" in names and "dogs" in names
    assert names == sorted(names)
    without = run_comp("list")
    assert "toy" not in without.stdout


def test_unknown_competition_on_the_command_line_exits_2_with_one_line():
    result = run_comp("train", "nope", "--data", ".")
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "unknown competition 'nope'; known: captcha, captcha-final, dogs, images, pathology" in result.stderr


def test_a_plugin_that_fails_to_import_is_named_and_never_stops_the_others(monkeypatch, caplog):
    broken = metadata.EntryPoint(name="broken", value="no_such_module_of_comp:Plugin", group=ENTRY_POINT_GROUP)
    installed = metadata.entry_points(group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(metadata, "entry_points", lambda group: [broken, *installed])
    assert get_competition_class("dogs").name == "dogs"  # loads dogs alone: the broken one is not touched
    with caplog.at_level(logging.WARNING, logger="comp.registry"):
        names = list_competitions()
    assert "dogs" in names and "broken" not in names
    assert "competition plugin 'broken' (no_such_module_of_comp:Plugin) failed to import" in caplog.text
    with pytest.raises(CompError) as error:
        create_competition("broken")
    assert str(error.value).startswith("competition plugin 'broken' (no_such_module_of_comp:Plugin) failed to import: "
                                       "ModuleNotFoundError")
