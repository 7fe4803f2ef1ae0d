"""Whether a text can still grow into grammatical formulas: the check a constrained CTC beam makes at every
character it adds (the grammar is in formulas.py's docstring).

A prefix is viable when some completion of it is grammatical: its finished assignments are valid and distinct, and
its last part is either the start of another assignment (while fewer than two are finished) or the start of the
expression: a prefix of one of the 11 templates, integers that may still be written (no leading zero, at most
100000), at most one fraction, only assigned variables, each once, and room left in the four operands for the
assigned variables not yet used and for the fraction.
"""

from __future__ import annotations

from competitions.captcha_final.formulas import (
    DIGITS,
    LARGEST_INTEGER,
    LONGEST_FORMULAS,
    OPERATORS,
    TEMPLATES,
    VARIABLES,
    FormulaError,
    parse_assignment,
)

OPERANDS = 4
TEMPLATE_PREFIXES = frozenset(template[:end] for template in TEMPLATES for end in range(len(template) + 1))


def integer_may_grow(digits: str) -> bool:
    """Whether ``digits`` (possibly empty) is the start of an integer the grammar allows."""
    if len(digits) > 1 and digits[0] == "0":
        return False
    return not digits or int(digits) <= LARGEST_INTEGER


def assignment_may_grow(text: str, assigned: list[str]) -> bool:
    """Whether ``text`` is the start of an assignment of a variable not in ``assigned``."""
    if not text:
        return True
    if text[0] not in VARIABLES or text[0] in assigned:
        return False
    if len(text) == 1:
        return True
    digits = text[2:]
    return text[1] == "=" and all(character in DIGITS for character in digits) and integer_may_grow(digits)


def digits_end(text: str, start: int) -> int:
    """The position after the run of digits beginning at ``start`` (``start`` itself when there is none)."""
    end = start
    while end < len(text) and text[end] in DIGITS:
        end += 1
    return end


def expression_may_grow(expression: str, assigned: list[str]) -> bool:
    """Whether ``expression`` is the start of an expression over exactly the ``assigned`` variables."""
    shape, used, fractions, position = "", [], 0, 0
    last_is_bare_variable = False
    while position < len(expression):
        character = expression[position]
        last_is_bare_variable = False
        if character in "()" + OPERATORS:
            shape += character if character in "()" else "?"
            position += 1
            continue
        end = position + 1
        if character in DIGITS:
            end = digits_end(expression, position)
            if not integer_may_grow(expression[position:end]):
                return False
        elif character in VARIABLES and character in assigned and character not in used:
            used.append(character)
            if end < len(expression) and expression[end] == "/":
                end = digits_end(expression, end + 1)
                denominator = expression[position + 2:end]
                if not integer_may_grow(denominator) or denominator == "0":
                    return False
                fractions += 1
            else:
                last_is_bare_variable = end == len(expression)
        else:
            return False
        shape += "o"
        position = end
    if shape not in TEMPLATE_PREFIXES or fractions > 1:
        return False
    slots_left = OPERANDS - shape.count("o")
    unused = len(assigned) - len(used)
    fraction_possible = fractions == 1 or last_is_bare_variable or (unused >= 1 and slots_left >= 1)
    return unused <= slots_left and fraction_possible


def is_formula_prefix(text: str) -> bool:
    """Whether some completion of ``text`` is grammatical formulas (True for "", False past 46 characters)."""
    if len(text) > LONGEST_FORMULAS:
        return False
    *finished, last = text.split(";")
    if len(finished) > 2:
        return False
    assigned: list[str] = []
    for part in finished:
        try:
            variable, _ = parse_assignment(part)
        except FormulaError:
            return False
        if variable in assigned:
            return False
        assigned.append(variable)
    return ((len(finished) < 2 and assignment_may_grow(last, assigned))
            or (len(finished) >= 1 and expression_may_grow(last, assigned)))
