"""Reading a whole character sequence from an image with CTC, shared by the sequence competitions (both captcha
rounds): the character classes and batched greedy decoding, a beam decoder kept to a grammar's prefixes, learning-rate
schedules and the accuracy-against-time report section. None of these load TensorFlow; the Keras parts are the public
modules ``comp.sequence.network`` (the CRNN, the CTC loss) and ``comp.sequence.fitting`` (schedule and deadline,
accuracy clock, the fit), which plugins import with ``comp._lazy.lazy_import``. The string vote of k models is
``comp.fusion.majority_vote``."""

from comp.sequence._beam import constrained_beam_decode
from comp.sequence._characters import CharacterTable, greedy_decode
from comp.sequence._schedule import SCHEDULES, learning_rate_at
from comp.sequence._time_curve import accuracy_over_time_section

__all__ = ["SCHEDULES", "CharacterTable", "accuracy_over_time_section", "constrained_beam_decode", "greedy_decode",
           "learning_rate_at"]
