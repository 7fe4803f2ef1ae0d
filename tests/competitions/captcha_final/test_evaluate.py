"""Scoring a predictions CSV against a labelled folder (the fresh-set and other-renderer measurements)."""

import pytest

from competitions.captcha_final.answers import answer_table, save_answers
from competitions.captcha_final.demo import write_demo
from competitions.captcha_final.evaluate import main, wrong_reading_kinds
from competitions.captcha_final.reader import read_dataset


def test_the_scores_count_whole_formulas_and_values_and_a_missing_answer_is_named(tmp_path, capsys):
    data = write_demo(tmp_path / "data", n=3, seed=2)
    truths = read_dataset(data).train["label"].tolist()
    *assignments, expression = truths[1].split(";")
    same_value = ";".join(assignments[::-1] + [expression])  # other text, same value
    assert len(assignments) == 2 and same_value != truths[1]
    readings = [truths[0], same_value, ""]
    csv = save_answers(answer_table([0, 1, 2], readings), tmp_path / "answers.csv")
    main(["--predictions", str(csv), "--data", str(data)])
    assert capsys.readouterr().out.strip().splitlines() == [
        "sequence accuracy 0.3333 (1 of 3), value accuracy 0.6667",
        ("wrong 2: 1 empty, 0 of another length, 1 of the same length; 0 characters dropped, 0 of them beside the same "
         "character")]
    save_answers(answer_table([0, 1], readings[:2]), tmp_path / "short.csv")
    with pytest.raises(SystemExit, match=r"error: .*short.csv has no answer for image 2 of .* \(1 missing\); "
                                         r"predict that folder: comp predict captcha-final --run RUN --data"):
        main(["--predictions", str(tmp_path / "short.csv"), "--data", str(data)])


def test_wrong_readings_are_told_apart_and_a_merged_repeat_is_counted_as_one():
    labels = ["不=1100;不*2+3-4/5", "君=7;君+1+2+3/4", "河=9;河-1-2-3/4", "水=5;水+1"]
    readings = ["不=110;不*2+3-4/5", "君=7;君+1+2+3/4", "河=9;河-1-2-8/4", ""]
    assert wrong_reading_kinds(labels, readings) == {"wrong": 3, "empty": 1, "other_length": 1, "same_length": 1,
                                                     "dropped": 1, "dropped_repeats": 1}
    assert wrong_reading_kinds(["君=75;君+1"], ["君=7;君+1"])["dropped_repeats"] == 0  # a lone 5 dropped
