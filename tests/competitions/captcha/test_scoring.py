"""Sequence and value accuracy, the seed's majority vote (ties, empties), the answer files and the vote fusion."""

import numpy as np
import pytest

from comp.fusion import Candidate, majority_vote
from competitions.captcha.answers import answer_table, result_text, write_answers
from competitions.captcha.plugin import CaptchaCompetition
from competitions.captcha.scoring import parseable, sequence_accuracy, value_accuracy


def vote(predictions):
    """The captcha's vote: only parseable answers count."""
    return majority_vote(predictions, is_valid=parseable)


def test_accuracies_count_whole_expressions_and_values():
    truth = np.array(["1+2", "(3-5)*2", "4*4", "9"])
    prediction = np.array(["1+2", "(3-5*2", "2*8", ""])
    assert sequence_accuracy(truth, prediction) == 0.25
    assert value_accuracy(truth, prediction) == 0.5  # 2*8 has the right value; unparseable and empty are wrong


def test_vote_takes_the_majority_and_ignores_empty_and_unparseable_answers():
    voted = vote([np.array(["1+2", "", "3*3", "1+("]),
                           np.array(["1+3", "4-1", "3*3", ""]),
                           np.array(["1+3", "(", "3*4", "*"])])
    assert voted.tolist() == ["1+3", "4-1", "3*3", ""]


def test_vote_ties_go_to_the_earliest_model():
    assert vote([np.array(["1+2"]), np.array(["1+3"])]).tolist() == ["1+2"]
    assert vote([np.array(["1+"]), np.array(["1+3"]), np.array(["1+2"])]).tolist() == ["1+3"]
    assert vote([np.array(["5", "6"]), np.array(["7", "6"]), np.array(["7", "8"]),
                          np.array(["5", "8"])]).tolist() == ["5", "6"]


def test_vote_refuses_unequal_lengths_and_no_models():
    with pytest.raises(ValueError, match="different numbers"):
        vote([np.array(["1"]), np.array(["1", "2"])])
    with pytest.raises(ValueError, match="at least one"):
        vote([])


def test_answers_leave_the_value_of_unparseable_expressions_empty(tmp_path):
    frame = answer_table([0, 1, 2], ["(3-5)*2", "3-*", ""])
    assert frame["value"].tolist() == ["-4", "", ""]
    assert result_text(frame) == "(3-5)*2 -4\n3-*\n\n"
    csv_path, result_path = write_answers(frame, tmp_path / "answers" / "p.csv")
    assert csv_path.read_text() == "id,expression,value\n0,(3-5)*2,-4\n1,3-*,\n2,,\n"
    assert result_path == tmp_path / "answers" / "result.txt"


def test_fusion_is_a_scored_vote_with_each_members_accuracies():
    labels = np.array(["1+2", "3*3", "4-1"])
    folds = np.array([0, 1, 0])
    models = [Candidate("a", np.array(["1+2", "3*8", "4-1"]), np.array(["5"]), 2 / 3, []),
              Candidate("b", np.array(["1+2", "3*3", "1+2"]), np.array(["6"]), 2 / 3, []),
              Candidate("c", np.array(["1+3", "3*3", ""]), np.array(["6"]), 1 / 3, [])]
    vote, = CaptchaCompetition().fuse(models, labels, folds)
    assert vote.name == "vote" and vote.oof.tolist() == ["1+2", "3*3", "4-1"] and vote.score == 1.0
    assert vote.test.tolist() == ["6"] and vote.fold_scores == [1.0, 1.0]
    assert vote.details["members"] == ["a", "b", "c"]
    assert vote.details["value_accuracy"] == {"a": 2 / 3, "b": 1.0, "c": 1 / 3, "vote": 1.0}  # 1+2 = 4-1
