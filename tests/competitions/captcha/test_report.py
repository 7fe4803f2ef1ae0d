"""The captcha run's report (accuracy per character, confused pairs, wrong readings: comp.sequence's sections) and
its refusal to export."""

import json

from tests.conftest import report_images, run_comp

CAPTCHA_SECTIONS = ("Accuracy against training time", "Accuracy per character", "Most confused character pairs", "Wrong predictions (OOF)")


def test_the_report_written_by_train_has_every_section_and_every_image_decodes(captcha_demo_run):
    report = (captcha_demo_run / "report.html").read_text(encoding="utf-8")
    for title in ("Models and fusion candidates (out-of-fold)", "Training curves", "Resolved config",
                  *CAPTCHA_SECTIONS):
        assert f"<h2>{title}</h2>" in report, title
    scores = json.loads((captcha_demo_run / "scores.json").read_text())
    readings = report.count("\ntruth: ")
    assert readings == min(24, round((1 - scores["final"]["score"]) * 8))  # one card per wrong reading
    images = report_images(captcha_demo_run / "report.html")
    assert len(images) >= 2 + readings and all(image is not None for image in images)
    assert any(image.shape[:2] == (60, 180) for image in images)  # the captchas themselves, at their own size


def test_export_of_a_captcha_run_says_why_it_cannot_be_one_network(captcha_demo_run):
    result = run_comp("export", str(captcha_demo_run), "--format", "keras")
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "majority vote over the strings decoded by each fold's CRNN, not one network" in result.stderr
