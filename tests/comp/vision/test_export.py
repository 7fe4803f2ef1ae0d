"""``comp export``'s own checks: the format, the ``--out`` path, and a plugin's reason for having no single network.

(That a dogs export reproduces the run's predictions is tested in tests/competitions/dogs/test_report.py.)
"""

import pytest

from comp import CompError
from comp.io import Run
from comp.registry import COMPETITIONS
from comp.vision import export_run

VOTE_REASON = "vote runs cannot be exported: the final answer is a majority vote over networks, not one network"


@pytest.fixture
def plugins(toy_competition, monkeypatch):
    """Two plugins beside the toy one: ``toy_network`` exports a tiny Keras model, ``toy_vote`` says why it cannot."""
    import keras

    class ToyNetwork(type(toy_competition)):
        name = "toy_network"
        exported = 0

        def export_model(self, run):
            ToyNetwork.exported += 1
            return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])

    class ToyVote(type(toy_competition)):
        name = "toy_vote"

        def export_model(self, run):
            raise CompError(VOTE_REASON)

    for plugin in (ToyNetwork, ToyVote):
        monkeypatch.setitem(COMPETITIONS.entries, plugin.name, plugin)
    return ToyNetwork


def run_of(competition: str, root) -> Run:
    run = Run.create(root / "runs", competition)
    run.write_json("config.json", {"competition": competition, "config": {}})
    return run


def test_an_unknown_format_is_a_one_line_error_listing_the_formats_before_anything_is_built(plugins, tmp_path):
    run = run_of("toy_network", tmp_path)
    with pytest.raises(CompError) as raised:
        export_run(run, "onnx")
    assert str(raised.value) == "unknown export format 'onnx'; known: savedmodel, keras, tflite"
    assert plugins.exported == 0 and not run.file("export").exists()


def test_keras_format_needs_an_out_path_ending_in_dot_keras_and_writes_nothing_else(plugins, tmp_path):
    run = run_of("toy_network", tmp_path)
    out = tmp_path / "model.h5"
    with pytest.raises(CompError) as raised:
        export_run(run, "keras", out)
    assert str(raised.value) == f"--out {out} must end in .keras for --format keras"
    assert list(tmp_path.iterdir()) == [tmp_path / "runs"]  # no model.h5, no staging folder left behind


def test_an_out_path_that_cannot_be_made_is_named_in_one_line(plugins, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    with pytest.raises(CompError, match=f"^cannot write {blocker / 'sub' / 'model.keras'}: ") as raised:
        export_run(run_of("toy_network", tmp_path), "keras", blocker / "sub" / "model.keras")
    assert "\n" not in str(raised.value)


def test_a_plugin_whose_final_model_is_not_one_network_gives_its_own_one_line_reason(plugins, tmp_path):
    run = run_of("toy_vote", tmp_path)
    for export_format in ("savedmodel", "keras", "tflite"):
        with pytest.raises(CompError) as raised:
            export_run(run, export_format)
        assert str(raised.value) == VOTE_REASON
    assert not run.file("export").exists()


def test_a_plugin_without_an_export_hook_says_so_in_one_line(toy_competition, tmp_path):
    with pytest.raises(CompError) as raised:
        export_run(run_of("toy", tmp_path), "savedmodel")
    assert str(raised.value).startswith("toy runs cannot be exported: ") and "\n" not in str(raised.value)
