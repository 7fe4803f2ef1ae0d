"""What reaches the terminal: error lines of at most 300 characters, and no TensorFlow native log lines."""

import re

import pytest

from competitions.captcha.demo import write_demo as write_captcha_demo
from competitions.dogs.demo import write_demo
from tests.conftest import run_comp
from tests.faults.conftest import QUICK_CONFIG, one_line_error

NATIVE_LOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d|absl::InitializeLog|NodeDef mentions attribute|port\.cc:\d+\]",
                        re.MULTILINE)


def test_a_ten_thousand_character_label_line_is_echoed_in_an_error_line_of_at_most_300_characters(tmp_path):
    data = write_captcha_demo(tmp_path / "captcha", n=4, seed=0)
    labels = data / "labels.txt"
    lines = labels.read_text().splitlines(True)
    labels.write_text("".join([lines[0], "x" * 10_000 + "\n", *lines[2:]]))
    line = one_line_error(run_comp("train", "captcha", "--data", str(data), "--out", str(tmp_path / "run"),
                                   cwd=tmp_path))
    assert len(line) <= 300 and "labels.txt line 2" in line and "more characters" in line, line


@pytest.mark.slow  # a real (tiny) training, about 30 s
def test_tensorflow_native_log_lines_reach_neither_the_terminal_nor_the_log(tmp_path, cache_env):
    data = write_demo(tmp_path / "dogs", n=8, seed=0)
    (tmp_path / "tiny.toml").write_text(QUICK_CONFIG)
    result = run_comp("train", "dogs", "--data", str(data), "--config", str(tmp_path / "tiny.toml"),
                      "--out", str(tmp_path / "run"), env=cache_env)
    assert result.returncode == 0, result.stderr
    assert "features: 8 train + 2 test images" in result.stderr  # Python's own log lines still show
    assert not NATIVE_LOG.search(result.stderr), result.stderr
    assert not NATIVE_LOG.search((tmp_path / "run" / "log.txt").read_text())
