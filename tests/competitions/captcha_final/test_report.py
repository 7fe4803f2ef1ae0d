"""The captcha-final report: the shared reading sections (comp.sequence) on a tiny run's scores and OOF readings,
with Chinese characters drawn in the chart, bad labels lines left out of the tallies and the strips in the gallery."""

import base64
import re
import warnings

import cv2
import numpy as np

from comp.io import Run
from competitions.captcha_final import CaptchaFinalCompetition
from competitions.captcha_final.demo import write_demo
from competitions.captcha_final.reader import BAD_LABEL, read_dataset


def tiny_run(tmp_path):
    """A run of three demo images (the third with a bad labels line) whose final OOF readings are: right, one
    character wrong, nothing."""
    data = write_demo(tmp_path / "data", n=3, seed=5)
    lines = (data / "labels.txt").read_text(encoding="utf-8").splitlines()
    (data / "labels.txt").write_text("\n".join(lines[:2] + ["ungrammatical 1.00"]) + "\n", encoding="utf-8")
    dataset = read_dataset(data)
    truths = dataset.train["label"].tolist()
    misread = truths[1].replace("=", "-", 1)
    run = Run.create(tmp_path / "runs", "captcha-final", out=tmp_path / "run")
    run.save_rows(dataset)
    run.save_predictions("vote", np.array([truths[0], misread, ""]), np.array([], dtype=str))
    run.write_json("config.json", {"competition": "captcha-final", "config": {"decoder": "grammar"}})
    run.write_json("scores.json", {"final": {"name": "vote", "score": 1 / 3}, "models": {"crnn": {"histories": [
        {"elapsed_s": [30.0, 60.0], "val_sequence_accuracy": [0.0, 0.25], "greedy_sequence_accuracy": 0.25,
         "grammar_sequence_accuracy": 0.5},
        {"elapsed_s": [30.0], "val_sequence_accuracy": [0.0], "greedy_sequence_accuracy": 0.0,
         "grammar_sequence_accuracy": 0.25}]}}})
    return run, truths, misread


def test_the_sections_tally_characters_show_strips_and_draw_chinese_labels(tmp_path):
    run, truths, misread = tiny_run(tmp_path)
    assert truths[2] == BAD_LABEL
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sections = CaptchaFinalCompetition().report_sections(run)
    assert not [str(warning.message) for warning in caught if "missing from font" in str(warning.message)]
    by_title = {section.title: section.body for section in sections}
    assert list(by_title) == ["Accuracy against training time", "Accuracy per character",
                              "Most confused character pairs", "Wrong predictions (OOF)",
                              "Greedy against grammar decoding"]
    tallied = "".join(truths[:2])  # the bad line's placeholder is not a character
    variable = next(character for character in tallied if ord(character) > 127)
    count = tallied.count(variable)
    assert re.search(rf"<td>{variable}</td><td>{count}</td><td>{count}</td><td>1.000</td>",
                     by_title["Accuracy per character"])
    assert f"<td>{BAD_LABEL}</td>" not in by_title["Accuracy per character"]
    assert re.search(r"<td>=</td><td>-</td><td>1</td>", by_title["Most confused character pairs"])
    gallery = by_title["Wrong predictions (OOF)"]
    assert "2 of 3 training images are read wrong" in gallery
    assert f"read: {misread}" in gallery and "read: (nothing)" in gallery
    pictures = [cv2.imdecode(np.frombuffer(base64.b64decode(text), np.uint8), cv2.IMREAD_COLOR)
                for text in re.findall(r'src="data:image/png;base64,([^"]+)"', gallery)]
    assert [picture.shape for picture in pictures] == [(80, 900, 3)] * 2  # the strips the network read


def test_the_decoder_section_shows_each_folds_greedy_and_grammar_accuracy_and_their_means(tmp_path):
    run, _, _ = tiny_run(tmp_path)
    body = {section.title: section.body for section in CaptchaFinalCompetition().report_sections(run)}[
        "Greedy against grammar decoding"]
    assert "<td>crnn</td><td>0</td><td>0.2500</td><td>0.5000</td>" in body
    assert "<td>crnn</td><td>1</td><td>0.0000</td><td>0.2500</td>" in body
    assert "<td>mean</td><td></td><td>0.1250</td><td>0.3750</td>" in body
    assert "answered with `grammar`" in body
