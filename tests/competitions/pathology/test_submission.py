"""The pathology submission guard: the CSV's rules, and a mask in the zip for every row."""

import zipfile

import pytest

from comp import CompError
from competitions.pathology import PathologyCompetition

TABLE = "id,cancer_probability,cancer_fraction\nslide1,0.9,0.25\nslide2,0.1,0\n"


def submission_zip(path, table=TABLE, masks=("slide1", "slide2")):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("submission.csv", table)
        for name in masks:
            archive.writestr(f"masks/{name}.png", b"png bytes")
    return path


def test_a_complete_zip_and_its_csv_pass(tmp_path):
    PathologyCompetition().validate_submission_file(submission_zip(tmp_path / "run.zip"), None)
    (tmp_path / "submission.csv").write_text(TABLE)
    PathologyCompetition().validate_submission_file(tmp_path / "submission.csv", None)


@pytest.mark.parametrize(("table", "masks", "message"), [
    (TABLE, ("slide1",), "has no masks/slide2.png for the submission row of id slide2"),
    (TABLE.replace("0.9", "1.5"), ("slide1", "slide2"), "'cancer_probability' has value 1.5 at id slide1 (row 1)"),
    (TABLE.replace("cancer_fraction", "fraction"), ("slide1", "slide2"), "submission header is wrong"),
], ids=["missing-mask", "probability-above-one", "header"])
def test_a_broken_zip_is_refused_naming_the_first_problem(tmp_path, table, masks, message):
    path = submission_zip(tmp_path / "run.zip", table, masks)
    with pytest.raises(CompError) as raised:
        PathologyCompetition().validate_submission_file(path, None)
    assert message in str(raised.value)
