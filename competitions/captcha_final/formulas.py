"""The final round's formulas: the alphabet, random formulas by the organisers' rules, a strict parser, exact values.

A captcha holds one or two assignments and one expression, top to bottom; its label is the formulas joined by
``;``, a space, then the value rounded to two decimals, e.g. ``流=42072;圳=86;(圳-(97510*45921))*流/35864 ...``.
The stacked fraction is written ``<numerator variable>/<denominator integer>`` where it stands in the expression
(``/`` binds like ``*``, and a fraction is always one operand, so the text has a single value). The grammar:

    formulas   := assignment ';' [assignment ';'] expression
    assignment := VARIABLE '=' INTEGER
    expression := one of the 11 TEMPLATES, its four operands joined by three operators from '+', '-', '*'
    operand    := INTEGER | VARIABLE | VARIABLE '/' DENOMINATOR       (exactly one fraction)
    INTEGER    := '0' | a digit 1-9 then digits, at most 100000;  DENOMINATOR: an INTEGER of at least 1

and the assigned variables are distinct and are exactly the expression's variables, each used once: with one
assignment the fraction's numerator is the only variable, with two the other one is a plain operand. Two choices
are ours where the organisers said nothing: the integer 0 is written ``0``, and a denominator is never 0.

Values are exact ``fractions.Fraction``s, never ``eval``: products of five-digit numbers exceed a float's
precision. The organisers computed the label's value in floating point and counted one within 0.01 as right; here
it is the exact value rounded half away from zero to two decimals.
"""

from __future__ import annotations

import operator
import random
from dataclasses import dataclass
from fractions import Fraction

VARIABLE_DRAWS = "君不见黄河之水天上来奔流到海不复回" + "烟锁池塘柳深圳铁板烧"  # drawn uniformly: 不 is there twice
VARIABLES = "".join(dict.fromkeys(VARIABLE_DRAWS))  # the 26 distinct variable characters
DIGITS = "0123456789"
OPERATORS = "+-*"
ALPHABET = DIGITS + OPERATORS + "/()=;" + VARIABLES  # every character a label's formulas can hold
LARGEST_INTEGER = 100000
LONGEST_FORMULAS = 46  # two assignments of 100000, three six-digit numbers, four operators, four parentheses
TEMPLATES = (  # 'o' an operand, '?' an operator
    "o?o?o?o", "(o?o)?o?o", "o?(o?o)?o", "o?o?(o?o)", "(o?o?o)?o", "o?(o?o?o)",
    "((o?o)?o)?o", "(o?(o?o))?o", "o?((o?o)?o)", "o?(o?(o?o))", "(o?o)?(o?o)",
)
ONE_ASSIGNMENT_PROBABILITY = 1 / 3
PRECEDENCE = {"+": 1, "-": 1, "*": 2}
ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul}


class FormulaError(ValueError):
    """A string that is not grammatical formulas of the final round (or a label line without its parts)."""


@dataclass(frozen=True)
class Operand:
    """One operand of the expression: an integer, a variable, or the fraction ``variable/denominator``."""

    text: str
    variable: str | None = None  # the variable, or the fraction's numerator
    integer: int | None = None  # the integer, or the fraction's denominator

    @property
    def is_fraction(self) -> bool:
        return self.variable is not None and self.integer is not None


@dataclass(frozen=True)
class ParsedFormulas:
    """Formulas checked against the grammar: the assignments in order and the expression's tokens.

    ``tokens`` holds the expression with every operand replaced by its Operand: strings are '(', ')' and operators.
    """

    assignments: tuple[tuple[str, int], ...]
    tokens: tuple[str | Operand, ...]
    template: str

    @property
    def operands(self) -> tuple[Operand, ...]:
        return tuple(token for token in self.tokens if isinstance(token, Operand))


def random_integer(rng: random.Random, smallest: int = 0) -> int:
    """An integer drawn uniformly from [smallest, 100000]; written without leading zeros."""
    return rng.randint(smallest, LARGEST_INTEGER)


def random_variables(rng: random.Random, count: int) -> list[str]:
    """``count`` distinct variables, each drawn from the two lines of verse (a repeat is drawn again)."""
    chosen: list[str] = []
    while len(chosen) < count:
        variable = rng.choice(VARIABLE_DRAWS)
        if variable not in chosen:
            chosen.append(variable)
    return chosen


def random_formulas(rng: random.Random) -> str:
    """Formulas drawn by the organisers' rules (module docstring), e.g. ``河=7;铁=120;85882*(河/76020-37023)-铁``.

    One assignment with probability 1/3, else two, in random order; a template from the 11; three operators from
    ``+-*``; the fraction (numerator the first variable) and, with two assignments, the second variable in random
    operand places; every other operand an integer.
    """
    count = 1 if rng.random() < ONE_ASSIGNMENT_PROBABILITY else 2
    variables = random_variables(rng, count)
    values = [random_integer(rng) for _ in variables]
    template = rng.choice(TEMPLATES)
    operators = [rng.choice(OPERATORS) for _ in range(3)]
    operands = [str(random_integer(rng)) for _ in range(4)]
    places = rng.sample(range(4), count)
    operands[places[0]] = f"{variables[0]}/{random_integer(rng, smallest=1)}"
    if count == 2:
        operands[places[1]] = variables[1]
    operand_iterator, operator_iterator = iter(operands), iter(operators)
    expression = "".join(next(operand_iterator) if kind == "o" else next(operator_iterator) if kind == "?" else kind
                         for kind in template)
    assignments = [f"{variable}={value}" for variable, value in zip(variables, values)]
    rng.shuffle(assignments)
    return ";".join(assignments + [expression])


def parse_integer(text: str, where: str) -> int:
    """The value of a written integer; FormulaError for a leading zero, a non-digit or more than 100000."""
    if not text or any(character not in DIGITS for character in text):
        raise FormulaError(f"expected an integer in {where}, found {text!r}")
    if len(text) > 1 and text[0] == "0":
        raise FormulaError(f"integer {text!r} in {where} starts with 0")
    value = int(text)
    if value > LARGEST_INTEGER:
        raise FormulaError(f"integer {text} in {where} is above {LARGEST_INTEGER}")
    return value


def parse_assignment(text: str) -> tuple[str, int]:
    """(variable, value) of ``<variable>=<integer>``."""
    if len(text) < 3 or text[0] not in VARIABLES or text[1] != "=":
        raise FormulaError(f"assignment {text!r} is not <variable>=<integer>")
    return text[0], parse_integer(text[2:], f"assignment {text!r}")


def tokenize_expression(expression: str) -> list[str | Operand]:
    """The expression's tokens, operands folded into Operands (the fraction ``V/123`` is one)."""
    tokens: list[str | Operand] = []
    position = 0
    while position < len(expression):
        character = expression[position]
        if character in "()" + OPERATORS:
            tokens.append(character)
            position += 1
            continue
        end = position + 1
        if character in DIGITS:
            while end < len(expression) and expression[end] in DIGITS:
                end += 1
            tokens.append(Operand(expression[position:end], integer=parse_integer(expression[position:end],
                                                                                  f"expression {expression!r}")))
        elif character in VARIABLES:
            if end < len(expression) and expression[end] == "/":
                end += 1
                while end < len(expression) and expression[end] in DIGITS:
                    end += 1
                denominator = parse_integer(expression[position + 2:end], f"the fraction of {expression!r}")
                if denominator == 0:
                    raise FormulaError(f"the fraction of {expression!r} divides by 0")
                tokens.append(Operand(expression[position:end], variable=character, integer=denominator))
            else:
                tokens.append(Operand(character, variable=character))
        else:
            raise FormulaError(f"unexpected {character!r} at position {position} of expression {expression!r}")
        position = end
    return tokens


def template_of(tokens: list[str | Operand]) -> str:
    """The expression's shape: 'o' per operand, '?' per operator, parentheses as they are."""
    return "".join("o" if isinstance(token, Operand) else "?" if token in OPERATORS else token for token in tokens)


def parse_formulas(formulas: str) -> ParsedFormulas:
    """Check ``formulas`` (a label without its value) against the grammar; FormulaError names the first fault."""
    if not isinstance(formulas, str) or not formulas:
        raise FormulaError(f"empty formulas {formulas!r}")
    if len(formulas) > LONGEST_FORMULAS:
        raise FormulaError(f"formulas of {len(formulas)} characters are longer than {LONGEST_FORMULAS}")
    *assignment_texts, expression = formulas.split(";")
    if len(assignment_texts) not in (1, 2):
        raise FormulaError(f"{formulas!r} has {len(assignment_texts)} assignments; one or two come before the "
                           "expression")
    assignments = tuple(parse_assignment(text) for text in assignment_texts)
    assigned = [variable for variable, _ in assignments]
    if len(set(assigned)) != len(assigned):
        raise FormulaError(f"{formulas!r} assigns {assigned[0]} twice")
    tokens = tokenize_expression(expression)
    template = template_of(tokens)
    if template not in TEMPLATES:
        raise FormulaError(f"expression {expression!r} (shape {template}) follows none of the 11 templates")
    operands = [token for token in tokens if isinstance(token, Operand)]
    fractions = [operand for operand in operands if operand.is_fraction]
    if len(fractions) != 1:
        raise FormulaError(f"expression {expression!r} has {len(fractions)} fractions; it needs exactly one")
    used = [operand.variable for operand in operands if operand.variable is not None]
    if sorted(used) != sorted(assigned):
        raise FormulaError(f"expression {expression!r} uses the variables {''.join(used) or 'none'} but "
                           f"{''.join(assigned)} are assigned; each assigned variable is used exactly once")
    return ParsedFormulas(assignments, tuple(tokens), template)


def is_grammatical(formulas: str) -> bool:
    """Whether ``formulas`` are grammatical with their variables assigned (what a constrained decoder keeps)."""
    try:
        parse_formulas(formulas)
    except FormulaError:
        return False
    return True


def operand_value(operand: Operand, values: dict[str, int]) -> Fraction:
    """The exact value of one operand under the assignments ``values``."""
    if operand.is_fraction:
        return Fraction(values[operand.variable], operand.integer)
    return Fraction(values[operand.variable] if operand.variable is not None else operand.integer)


def evaluate_tokens(parsed: ParsedFormulas) -> Fraction:
    """The expression's exact value by operator precedence (shunting-yard): '*' before '+' and '-', left to right."""
    values = dict(parsed.assignments)
    operands: list[Fraction] = []
    pending: list[str] = []  # operators and '(' not yet applied

    def apply_last() -> None:
        right, left = operands.pop(), operands.pop()
        operands.append(ARITHMETIC[pending.pop()](left, right))

    for token in parsed.tokens:
        if isinstance(token, Operand):
            operands.append(operand_value(token, values))
        elif token == "(":
            pending.append(token)
        elif token == ")":
            while pending[-1] != "(":
                apply_last()
            pending.pop()
        else:
            while pending and pending[-1] != "(" and PRECEDENCE[pending[-1]] >= PRECEDENCE[token]:
                apply_last()
            pending.append(token)
    while pending:
        apply_last()
    return operands[0]


def exact_value(formulas: str) -> Fraction:
    """The exact value of the expression with the assigned values; FormulaError when ungrammatical."""
    return evaluate_tokens(parse_formulas(formulas))


def format_value(value: Fraction) -> str:
    """``value`` rounded half away from zero to two decimals, e.g. ``-12.35``: exact for any size."""
    hundredths = (abs(value) * 100 + Fraction(1, 2)).__floor__()
    sign = "-" if value < 0 and hundredths else ""
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"


def make_label(formulas: str) -> str:
    """The label line of ``formulas``: the formulas, a space, the value to two decimals."""
    return f"{formulas} {format_value(exact_value(formulas))}"


def split_label(line: str) -> tuple[str, str]:
    """(formulas, value text) of a label line; FormulaError when the space and value are missing."""
    formulas, separator, value = line.strip().partition(" ")
    if not separator or not value:
        raise FormulaError(f"label {line.strip()!r} has no value after its formulas")
    return formulas, value
