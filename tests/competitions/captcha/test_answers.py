"""The captcha answer file: the rules its writer applies are the rules `comp submit` checks a file by."""

import pytest

from comp import CompError
from competitions.captcha import CaptchaCompetition
from competitions.captcha.answers import answer_table, table_csv


def test_a_written_answer_file_passes_the_guard_and_a_broken_one_does_not(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(table_csv(answer_table(["1", "2"], ["3+4", "7-"])))
    CaptchaCompetition().validate_submission_file(path, None)
    path.write_text("id,expression,value\n1,3+4,7\n1,2*3,6\n")
    with pytest.raises(CompError, match=r"duplicate id 1 \(row 2\)"):
        CaptchaCompetition().validate_submission_file(path, None)
    path.write_text("id,answer\n1,7\n")
    with pytest.raises(CompError, match=r"expected columns \['id', 'expression', 'value'\]"):
        CaptchaCompetition().validate_submission_file(path, None)
