"""Formula rules of the final round: the organisers' frequencies, the grammar, exact values and the label format."""

import random
from collections import Counter
from fractions import Fraction

import pytest

from competitions.captcha_final.formulas import (
    ALPHABET,
    LARGEST_INTEGER,
    LONGEST_FORMULAS,
    TEMPLATES,
    VARIABLES,
    FormulaError,
    exact_value,
    format_value,
    is_grammatical,
    make_label,
    parse_formulas,
    random_formulas,
    split_label,
)

DRAWS = 22000
CHI_SQUARE_10_DEGREES_P001 = 29.59  # the chi-square value a uniform draw over 11 templates exceeds once in 1,000


@pytest.fixture(scope="module")
def drawn():
    rng = random.Random(2017)
    return [parse_formulas(random_formulas(rng)) for _ in range(DRAWS)]


def test_the_eleven_parenthesis_templates_are_drawn_uniformly(drawn):
    counts = Counter(parsed.template for parsed in drawn)
    assert set(counts) == set(TEMPLATES) and len(TEMPLATES) == 11
    expected = DRAWS / len(TEMPLATES)
    chi_square = sum((count - expected) ** 2 / expected for count in counts.values())
    assert chi_square < CHI_SQUARE_10_DEGREES_P001, counts


def test_bu_is_drawn_about_twice_as_often_as_each_other_variable(drawn):
    counts = Counter(variable for parsed in drawn for variable, _ in parsed.assignments)
    assert set(counts) == set(VARIABLES) and len(VARIABLES) == 26
    others = [count for variable, count in counts.items() if variable != "不"]
    mean_other = sum(others) / len(others)
    assert 1.8 < counts["不"] / mean_other < 2.2
    assert max(others) / min(others) < 1.3


def test_every_expression_holds_exactly_one_fraction_whose_numerator_is_an_assigned_variable(drawn):
    for parsed in drawn:
        fractions = [operand for operand in parsed.operands if operand.is_fraction]
        assert len(fractions) == 1
        assert fractions[0].variable in dict(parsed.assignments) and fractions[0].integer >= 1


def test_one_assignment_a_third_of_the_time_and_two_otherwise(drawn):
    ones = sum(len(parsed.assignments) == 1 for parsed in drawn)
    assert abs(ones / DRAWS - 1 / 3) < 0.015
    assert all(len(parsed.assignments) in (1, 2) for parsed in drawn)


def test_operators_are_equally_likely_and_every_expression_has_three_of_them(drawn):
    counts = Counter(token for parsed in drawn for token in parsed.tokens if token in ("+", "-", "*"))
    assert sum(counts.values()) == 3 * DRAWS
    assert all(abs(count / (3 * DRAWS) - 1 / 3) < 0.01 for count in counts.values())


def test_integers_never_start_with_zero_and_stay_within_the_range():
    rng = random.Random(5)
    for _ in range(3000):
        formulas = random_formulas(rng)
        numbers = "".join(character if character.isdigit() else " " for character in formulas).split()
        assert all(number == "0" or not number.startswith("0") for number in numbers)
        assert all(0 <= int(number) <= LARGEST_INTEGER for number in numbers)


def test_generated_formulas_are_grammatical_short_and_written_in_the_alphabet():
    rng = random.Random(7)
    for _ in range(3000):
        formulas = random_formulas(rng)
        assert is_grammatical(formulas) and len(formulas) <= LONGEST_FORMULAS and set(formulas) <= set(ALPHABET)


def test_the_seed_papers_example_has_its_hand_computed_exact_value():
    # (86 - 97510*45921) * 42072 / 35864 = (86 - 4477756710) * 42072 / 35864 = -188388176684928 / 35864
    formulas = "流=42072;圳=86;(圳-(97510*45921))*流/35864"
    assert exact_value(formulas) == Fraction(-188388176684928, 35864)
    assert make_label(formulas) == formulas + " -5252849004.15"


@pytest.mark.parametrize("formulas, value, written", [
    ("君=6;不=4;君/3*(2+不)-1", Fraction(11), "11.00"),  # 6/3 * 6 - 1
    ("君=1;2-君/3+4*5", Fraction(65, 3), "21.67"),  # 2 - 1/3 + 20
    ("君=7;2+3*君/2-1", Fraction(23, 2), "11.50"),  # '*' and the fraction before '+' and '-'
    ("水=0;(水/9-1)-(2-3)", Fraction(0), "0.00"),
    ("不=3;不/8-(0*1-0)", Fraction(3, 8), "0.38"),  # 0.375 rounds half away from zero
])
def test_values_are_exact_fractions_with_the_usual_precedence(formulas, value, written):
    assert exact_value(formulas) == value
    assert make_label(formulas) == f"{formulas} {written}"


def test_values_round_half_away_from_zero_and_never_print_minus_zero():
    assert format_value(Fraction(-1, 200)) == "-0.01"
    assert format_value(Fraction(-1, 300)) == "0.00"
    assert format_value(Fraction(10 ** 30 + 1, 3)) == "333333333333333333333333333333.67"


@pytest.mark.parametrize("ungrammatical", [
    "", None, "君=1", "君/2+1+2+3", "君=1;不=2;黄=3;君/2+不+黄+1",
    "君=1;君+1+2+3",  # no fraction
    "君=1;君/2+君/3+1+2",  # two fractions and 君 twice
    "君=01;君/2+1+2+3",  # a leading zero
    "君=1;君/2+007+2+3",
    "君=100001;君/2+1+2+3",  # above 100000
    "君=1;君/0+1+2+3",  # divides by zero
    "君=1;不/2+1+2+3",  # 不 is not assigned
    "君=1;不=2;君/2+1+2+3",  # 不 is assigned but not used
    "君=1;君=2;君/2+1+2+3",  # 君 assigned twice
    "君=1;君/2+1+2",  # three operands
    "君=1;君/2+1+2+3+4",  # five operands
    "君=1;(君/2+1)+(2+3",  # unbalanced
    "君=1;(君/2)+1+2+3",  # parentheses of no template
    "君=1;2/君+1+2+3",  # the numerator must be the variable
    "君=1;君/2/3+1+2",
    "君=1;君/2+1+2+3 ",  # a trailing space
    "A=1;A/2+1+2+3",  # not a variable
    "君=;君/2+1+2+3",
    "君=1;君/2+1+2+3;",
    "君=1;君/2÷1+2+3",
])
def test_the_parser_rejects_ungrammatical_formulas(ungrammatical):
    with pytest.raises(FormulaError):
        parse_formulas(ungrammatical)
    assert not is_grammatical(ungrammatical)


@pytest.mark.parametrize("grammatical", [
    "君=1;君/2+1+2+3", "君=1;((君/2+1)+2)+3", "君=1;不=2;0*(不-(君/100000*3))", "君=100000;(1+2)*(3-君/1)",
])
def test_the_parser_accepts_every_template_shape_it_should(grammatical):
    assert is_grammatical(grammatical)


def test_a_label_line_splits_into_formulas_and_value_and_one_without_a_value_is_named():
    assert split_label("君=1;君/2+1+2+3 6.50\n") == ("君=1;君/2+1+2+3", "6.50")
    with pytest.raises(FormulaError, match="no value"):
        split_label("君=1;君/2+1+2+3")


def test_exact_values_of_generated_formulas_match_python_arithmetic_on_fractions():
    rng = random.Random(3)
    for _ in range(500):
        formulas = random_formulas(rng)
        *assignments, expression = formulas.split(";")
        values = {assignment[0]: assignment[2:] for assignment in assignments}
        substituted = "".join(values.get(character, character) for character in expression)
        python = "".join(f"Fraction({part})" if part.isdigit() else part for part in split_numbers(substituted))
        assert exact_value(formulas) == eval(python, {"Fraction": Fraction})  # a trusted test string


def split_numbers(text: str) -> list[str]:
    """``text`` cut into runs of digits and runs of anything else."""
    parts: list[str] = []
    for character in text:
        if parts and parts[-1][-1].isdigit() == character.isdigit():
            parts[-1] += character
        else:
            parts.append(character)
    return parts
