"""Arithmetic expressions of the captcha: the alphabet, random expressions by template, and a safe evaluator.

Model output is never passed to ``eval``: a small recursive-descent parser accepts non-negative integers,
``+``, ``-``, ``*`` and parentheses with the usual precedence, and rejects everything else.
"""

from __future__ import annotations

import random

DIGITS = "0123456789"
OPERATORS = "+-*"
ALPHABET = DIGITS + OPERATORS + "()"  # class i + 1 of the network is ALPHABET[i]; class 0 is the CTC blank
TEMPLATES = ("{0}{3}{1}{4}{2}", "({0}{3}{1}){4}{2}", "{0}{3}({1}{4}{2})")  # a?b?c, (a?b)?c, a?(b?c)
LONGEST_LABEL = 16  # labels are padded to this many characters; the network reads 22 time steps
LONGEST_EXPRESSION = 64  # the parser refuses longer input, which no 180-pixel captcha can hold


class ExpressionError(ValueError):
    """A string that is not a well-formed arithmetic expression."""


def random_expression(rng: random.Random) -> str:
    """Three random digits and two random operators in one of the three templates, each equally likely."""
    template = rng.choice(TEMPLATES)
    digits = [rng.choice(DIGITS) for _ in range(3)]
    operators = [rng.choice(OPERATORS) for _ in range(2)]
    return template.format(*digits, *operators)


class _Parser:
    """Recursive descent over the grammar below; each method consumes one rule and returns its value.

    expression := term (('+' | '-') term)*    term := factor ('*' factor)*    factor := integer | '(' expression ')'
    """

    def __init__(self, text: str):
        self.text = text
        self.position = 0

    def fail(self, what: str) -> ExpressionError:
        return ExpressionError(f"{what} at position {self.position} of {self.text!r}")

    def peek(self) -> str:
        return self.text[self.position] if self.position < len(self.text) else ""

    def parse(self) -> int:
        value = self.expression()
        if self.position != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")
        return value

    def expression(self) -> int:
        value = self.term()
        while self.peek() in ("+", "-"):
            operator = self.peek()
            self.position += 1
            right = self.term()
            value = value + right if operator == "+" else value - right
        return value

    def term(self) -> int:
        value = self.factor()
        while self.peek() == "*":
            self.position += 1
            value *= self.factor()
        return value

    def factor(self) -> int:
        character = self.peek()
        if character == "(":
            self.position += 1
            value = self.expression()
            if self.peek() != ")":
                raise self.fail("missing ')'")
            self.position += 1
            return value
        start = self.position
        while self.peek() and self.peek() in DIGITS:
            self.position += 1
        if start == self.position:
            raise self.fail(f"expected a number or '(' but found {character!r}" if character else "unexpected end")
        return int(self.text[start:self.position])


def evaluate(expression: str) -> int:
    """The integer value of ``expression``; ExpressionError when it is empty, too long or malformed."""
    if not isinstance(expression, str) or not expression:
        raise ExpressionError(f"empty expression {expression!r}")
    if len(expression) > LONGEST_EXPRESSION:
        raise ExpressionError(f"expression of {len(expression)} characters is longer than {LONGEST_EXPRESSION}")
    return _Parser(expression).parse()


def value_or_none(expression: str) -> int | None:
    """The value of ``expression``, or None when it cannot be parsed (an undecodable prediction)."""
    try:
        return evaluate(expression)
    except ExpressionError:
        return None
