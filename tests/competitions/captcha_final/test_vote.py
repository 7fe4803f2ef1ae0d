"""The vote over k models counts grammatical readings only; ties go to the earliest (best) model; the fold vote keeps
each fold's and the vote's scores on a labelled test set; the answer files."""

import numpy as np
import pandas as pd

from comp.fusion import majority_vote
from comp.sequence import fold_vote
from competitions.captcha_final.answers import answer_table, save_answers
from competitions.captcha_final.formulas import is_grammatical
from competitions.captcha_final.scoring import sequence_accuracy, value_accuracy

RIGHT, OTHER = "君=5;君/2+1+2+3", "君=5;君/2+1+2+8"


def test_ungrammatical_readings_never_win_and_ties_go_to_the_best_model():
    best = np.array([RIGHT, "君=5;君2+1+2+3", OTHER, ""])
    second = np.array(["君=5;君2+1+2+3", "君=5;君2+1+2+3", RIGHT, ""])
    third = np.array([OTHER, RIGHT, RIGHT, "君"])
    voted = majority_vote([best, second, third], is_valid=is_grammatical)
    assert voted.tolist() == [RIGHT, RIGHT, RIGHT, ""]


def test_the_fold_vote_records_every_fold_and_the_vote_on_labelled_rows():
    truth = np.array([RIGHT, RIGHT, OTHER])
    folds = [np.array([RIGHT, OTHER, OTHER]), np.array([RIGHT, RIGHT, ""]), np.array([OTHER, RIGHT, OTHER])]
    voted, record = fold_vote(folds, is_valid=is_grammatical, truth=truth,
                              scores={"sequence_accuracy": sequence_accuracy, "value_accuracy": value_accuracy})
    assert voted.tolist() == [RIGHT, RIGHT, OTHER]
    assert record["rows"] == 3 and record["vote_sequence_accuracy"] == 1.0
    assert record["sequence_accuracy"] == [2 / 3, 2 / 3, 2 / 3]
    assert fold_vote(folds, is_valid=is_grammatical, truth=None, scores={})[1] == {}


def test_answers_give_the_label_format_in_result_txt_and_a_csv(tmp_path):
    frame = answer_table([0, 1, 2], [RIGHT, "君=5;君2", ""])
    assert frame["value"].tolist() == ["8.50", "", ""]
    csv_path = save_answers(frame, tmp_path / "answers.csv")
    assert (tmp_path / "result.txt").read_text(encoding="utf-8").splitlines() == [f"{RIGHT} 8.50", "君=5;君2", ""]
    assert pd.read_csv(csv_path, dtype=str, keep_default_na=False)["formulas"].tolist() == [RIGHT, "君=5;君2", ""]
