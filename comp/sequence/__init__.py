"""Reading a whole character sequence from an image with CTC, shared by the sequence competitions (both captcha
rounds): the character classes and batched greedy decoding, a beam decoder kept to a grammar's prefixes,
the report sections of a reading run (accuracy against time, accuracy per
character, confused pairs, wrong readings), fixed generated sets in the cache, the N.png folder and labels.txt of
the captcha layouts, the answer files (CSV and result.txt), the vote of a spec's fold models and of a finished run's
saved fold models. None of these load TensorFlow; the Keras parts are the public modules ``comp.sequence.network``
(the CRNN, the CTC loss) and ``comp.sequence.fitting`` (accuracy clock, the fit on ``comp.vision.scheduled_rate``), which
plugins import with ``comp._lazy.lazy_import``. The string vote of k models is ``comp.fusion.majority_vote``."""

from comp.sequence._answers import answer_frame, answers_csv, check_answer_file, result_text, write_answers
from comp.sequence._beam import constrained_beam_decode
from comp.sequence._characters import CharacterTable, greedy_decode
from comp.sequence._fold_vote import fold_vote
from comp.sequence._generated_set import generated_set
from comp.sequence._layout import label_lines, numbered_pngs
from comp.sequence._reading_report import align, character_tallies, reading_sections
from comp.sequence._saved_vote import vote_of_saved_folds
from comp.sequence._time_curve import accuracy_over_time_section

__all__ = ["CharacterTable", "accuracy_over_time_section", "align", "answer_frame", "answers_csv",
           "character_tallies", "check_answer_file", "constrained_beam_decode", "fold_vote", "generated_set",
           "greedy_decode", "label_lines", "numbered_pngs", "reading_sections", "result_text", "vote_of_saved_folds",
           "write_answers"]
