"""The simulator's ``$[...]`` expressions and ``GotoIf`` truth, as Asterisk's ast_expr2 / pbx_checkcondition."""

from __future__ import annotations

import pytest

from ctiserver.sim.expr import evaluate, expand, truth


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('"FAILED" = "FAILED"', "1"),
        ('"SUCCESS" = "FAILED"', "0"),
        ('"" = "FAILED"', "0"),  # ${STASISSTATUS} empty
        (' = "FAILED"', "0"),  # ${X} expanded to nothing, unquoted
        ('"a" != "b"', "1"),
        ("10 > 9", "1"),  # numbers compare as numbers …
        ('"10" > "9"', "1"),  # … quoted or not (the quotes are not part of the value)
        ("abc < abd", "1"),  # otherwise as strings
        ('"x" = "x" & 2 = 3', "0"),
        ('"x" = "x" | 2 = 3', "1"),
        ("!0", "1"),
        ('!("a" = "a")', "0"),
        ("(1 = 1) & (2 = 2)", "1"),
        ("5 & 7", "5"),  # & gives its left operand when both are true
        ("0 | x", "x"),  # | gives its right operand when the left one is false
        ("HUMAN=HUMAN", "1"),  # no spaces needed around operators
    ],
)
def test_evaluate(text: str, value: str) -> None:
    assert evaluate(text) == value


def test_expand_replaces_each_expression_in_place() -> None:
    assert expand('$["FAILED" = "FAILED"]?ctx,s,1') == "1?ctx,s,1"
    assert expand('$[1 = 2]?a:b and $["x" != "y"]') == "0?a:b and 1"
    assert expand("no expression, ${NOT_A_VAR} left alone") == "no expression, ${NOT_A_VAR} left alone"


@pytest.mark.parametrize(
    ("value", "result"),
    [
        ("", False),
        ("0", False),
        ("00", False),
        (" 0", False),
        ("0x", False),
        ("1", True),
        ("-3", True),
        ("5 apples", True),
        ("x", True),
        (" ", True),
    ],
)
def test_truth_is_pbx_checkcondition(value: str, result: bool) -> None:
    assert truth(value) is result


@pytest.mark.parametrize("text", ["1 + 2", "(1 = 1", "a : b"])
def test_what_the_simulator_does_not_know_is_an_error_not_a_guess(text: str) -> None:
    with pytest.raises(ValueError):
        evaluate(text)
