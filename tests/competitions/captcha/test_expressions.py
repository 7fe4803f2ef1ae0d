"""Expression rules: the three templates equally likely, labels' values right, a parser that refuses garbage."""

import random
from collections import Counter

import pytest

from competitions.captcha.expressions import (
    ALPHABET,
    DIGITS,
    OPERATORS,
    ExpressionError,
    evaluate,
    random_expression,
    value_or_none,
)


def template_of(expression: str) -> str:
    return "".join("d" if character in DIGITS else "o" if character in OPERATORS else character
                   for character in expression)


def test_templates_operators_and_digits_are_equally_likely():
    expressions = [random_expression(random.Random(seed)) for seed in range(30000)]
    templates = Counter(template_of(expression) for expression in expressions)
    assert set(templates) == {"dodod", "(dod)od", "do(dod)"}
    assert all(abs(count / 30000 - 1 / 3) < 0.015 for count in templates.values())
    operators = Counter(character for expression in expressions for character in expression if character in OPERATORS)
    assert all(abs(count / 60000 - 1 / 3) < 0.015 for count in operators.values())
    digits = Counter(character for expression in expressions for character in expression if character in DIGITS)
    assert set(digits) == set(DIGITS) and all(abs(count / 90000 - 0.1) < 0.01 for count in digits.values())


def test_values_of_generated_expressions_match_python_arithmetic():
    rng = random.Random(1)
    for _ in range(2000):
        expression = random_expression(rng)
        assert set(expression) <= set(ALPHABET)  # so the reference below evaluates digits and operators only
        assert evaluate(expression) == eval(expression, {"__builtins__": {}})  # noqa: S307 - trusted test input


@pytest.mark.parametrize("expression, value", [
    ("1+2*3", 7), ("(1+2)*3", 9), ("2*3-4", 2), ("2-3*4", -10), ("(3-5)*2", -4), ("9-(8-7)", 8), ("9-8-7", -6),
    ("0*9+0", 0), ("((2))", 2), ("12+3", 15), ("7", 7), ("1-(2*(3+4))", -13),
])
def test_parser_follows_precedence_and_parentheses(expression, value):
    assert evaluate(expression) == value


@pytest.mark.parametrize("garbage", ["", "1+", "+1", "-1", "(1", "1)", "1++2", "()", "1 + 2", "a+b", "1/2",
                                     "2**3", "__import__('os')", "1" * 65, None])
def test_parser_rejects_garbage(garbage):
    with pytest.raises(ExpressionError):
        evaluate(garbage)
    assert value_or_none(garbage) is None
