"""The captcha competition's final round: multi-line formulas with Chinese variables, located, cropped into one strip
and read as one sequence (crop + CRNN + CTC), as the competition ``captcha-final``."""

from competitions.captcha_final.plugin import CaptchaFinalCompetition

__all__ = ["CaptchaFinalCompetition"]
