"""Arithmetic captcha: read the expression in an image (CNN + BiGRU + CTC) and give its value."""

from competitions.captcha.plugin import CaptchaCompetition

__all__ = ["CaptchaCompetition"]
