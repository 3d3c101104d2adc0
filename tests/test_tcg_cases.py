"""The TCG case block: rendering, the tolerant parser on hostile text, safe literals, assert conversion."""

from __future__ import annotations

import math
import random

import pytest

from o1coder.problems import Problem, TestCase
from o1coder.tcg import (
    Case,
    call_shape,
    case_from_assertion,
    case_to_test,
    cases_from_tests,
    parse_cases,
    parse_literal,
    render_case,
    render_cases,
)
from o1coder.tcg.convert import CallShape

FUNCTION = CallShape("function", "f")


def test_render_call_case_exactly():
    expected = "<input>\n[2, [1, 2]]\n</input>\n<output>\n{'a': (1,)}\n</output>"
    assert render_case(Case((2, [1, 2]), {"a": (1,)})) == expected


def test_render_stdio_case_exactly():
    case = Case("3\n1 2 3\n", "6\n", stdio=True)
    assert render_case(case) == "<input>\n3\n1 2 3\n</input>\n<output>\n6\n</output>"


@pytest.mark.parametrize("case", [
    Case((1, "x", None, True), [1.5, -2]),
    Case(((1, 2), {3, 4}, frozenset({5})), {1: "a", (2, 3): [None]}),
    Case((float("inf"), -float("inf")), complex(1, -2)),
    Case((), "it's \"quoted\"\n"),
    Case(([[]],), ()),
])  # fmt: skip
def test_call_cases_round_trip(case):
    parsed = parse_cases(render_cases([case, Case((0,), 0)]), stdio=False)
    assert parsed.cases == [case, Case((0,), 0)] and parsed.dropped == 0


def test_nan_round_trips():
    [case] = parse_cases(render_case(Case((float("nan"),), float("nan"))), stdio=False).cases
    assert math.isnan(case.input[0]) and math.isnan(case.output)


def test_stdio_cases_round_trip_and_normalise_newlines():
    cases = [Case("5\n1 2 3 4 5\n", "15\n", stdio=True), Case("", "empty\n", stdio=True)]
    assert parse_cases(render_cases(cases), stdio=True).cases == cases


def test_render_refuses_text_with_tags():
    with pytest.raises(ValueError, match="tag"):
        render_case(Case("<input>\n", "x", stdio=True))


def test_parser_is_tolerant_of_layout():
    text = ("Test 1:\n< INPUT >[1, 2]</Input> then <output> 3 </output>\n"
            "Test 2:<input>\n[5, 5]\n</input><output>10</output>")
    assert parse_cases(text, stdio=False).cases == [Case((1, 2), 3), Case((5, 5), 10)]


@pytest.mark.parametrize("text, reasons", [
    ("", {}),
    ("no tags at all", {}),
    ("<input>[1]</input>", {"malformed_block": 1}),
    ("<input>[1]", {"malformed_block": 1}),
    ("<output>1</output><input>[1]</input>", {"malformed_block": 1}),
    ("<input><input>[1]</input><output>1</output>", {"malformed_block": 1}),
    ("<input>[1]</input><output>1", {"malformed_block": 1}),
    ("<input>5</input><output>1</output>", {"input_not_a_list": 1}),
    ("<input>[1, </input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>[1]</input><output>nope nope</output>", {"bad_output_literal": 1}),
    ("<input>[__import__('os').system('echo hi')]</input><output>0</output>", {"bad_input_literal": 1}),
    ("<input>[(lambda: 1)()]</input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>['a' * 10**9]</input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>[[x for x in range(10**9)]]</input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>[{[1]}]</input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>" + "[" * 3000 + "</input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>[" + "[" * 60 + "]" * 60 + "]</input><output>1</output>", {"bad_input_literal": 1}),
    ("<input>[" + "9" * 5000 + "]</input><output>1</output>", {"too_long": 1}),
    ("<input>[1]</input><output>1</output>" * 2, {"duplicate": 1}),
])  # fmt: skip
def test_parser_drops_and_counts_malformed_blocks(text, reasons):
    parsed = parse_cases(text, stdio=False)
    assert dict(parsed.reasons) == reasons and parsed.dropped == sum(reasons.values())
    assert all(isinstance(c.input, tuple) for c in parsed.cases)


def test_parser_keeps_at_most_max_cases():
    text = "".join(f"<input>[{i}]</input><output>{i}</output>" for i in range(5))
    parsed = parse_cases(text, stdio=False, max_cases=3)
    assert [c.input for c in parsed.cases] == [(0,), (1,), (2,)] and dict(parsed.reasons) == {"too_many": 2}


def test_parser_survives_random_hostile_text():
    rng = random.Random(0)
    pieces = ["<input>", "</input>", "<output>", "</output>", "<Input >", "[", "]", "(", ")", "{", "}", "1", "-",
              "'", '"', "\n", " ", "nan", "float('inf')", "frozenset(", "__import__", ",", ":", "\\", "\x00", "é"]
    for _ in range(400):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        for stdio in (False, True):
            parsed = parse_cases(text, stdio=stdio)
            assert parsed.dropped >= 0 and len(parsed.cases) <= 10
            for case in parsed.cases:  # every kept case becomes a runnable test
                case_to_test(case, CallShape("stdio") if stdio else FUNCTION).to_dict()


def test_parser_never_raises_on_non_text():
    assert parse_cases(None, stdio=False).reasons == {"not_text": 1}  # type: ignore[arg-type]


def test_parse_literal_accepts_only_literals():
    assert parse_literal("[1, (2,), {3}, frozenset({4}), set(), float('-inf'), complex(1, 2)]") == \
        [1, (2,), {3}, frozenset({4}), set(), -math.inf, 1 + 2j]
    for text in ("float('1e5')", "open('/etc/passwd')", "x", "1 + 1", "dict(a=1)", "", "set(1)"):
        with pytest.raises(ValueError):
            parse_literal(text)


# -- dataset tests -> cases ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("code, case", [
    ("assert f(1, [2]) == 3", Case((1, [2]), 3)),
    ("assert 3 == f(1, [2])", Case((1, [2]), 3)),
    ("assert f('a') is True", Case(("a",), True)),
    ("assert f() == (1, 2), 'message'", Case((), (1, 2))),
    ("assert f(-1.5) == float('inf')", Case((-1.5,), math.inf)),
])  # fmt: skip
def test_simple_assertions_become_cases(code, case):
    assert case_from_assertion(code, FUNCTION) == case


@pytest.mark.parametrize("code", [
    "assert f(1) != 3", "assert f(1) < 3", "assert g(1) == 3", "assert f(x=1) == 3", "assert f(*a) == 3",
    "assert f(1)", "assert not f(1)", "assert f(1) is 3", "assert f(g(1)) == 2", "assert f(1) == f(2)",
    "assert set(f(1)) == {1}", "assert math.isclose(f(1), 2.0)", "x = 1\nassert f(x) == 1", "assert f(1) == 2 == 2",
    "assert f(1 == 2", "print(f(1))",
])  # fmt: skip
def test_other_assertions_are_not_converted(code):
    assert case_from_assertion(code, FUNCTION) is None


def test_method_problems_convert_and_run_as_assertions():
    shape = CallShape("method", "twoSum", "Solution")
    case = case_from_assertion("assert Solution().twoSum([2, 7], 9) == [0, 1]", shape)
    assert case == Case(([2, 7], 9), [0, 1])
    assert case_to_test(case, shape) == TestCase.assertion("assert Solution().twoSum([2, 7], 9) == [0, 1]")
    assert case_from_assertion("assert Other().twoSum([2, 7], 9) == [0, 1]", shape) is None


def test_cases_from_tests_counts_what_it_skips():
    problem = Problem("p", "add", "f", tests=[
        TestCase.assertion("assert f(1, 2) == 3"), TestCase.call("f", [2, 2], 4), TestCase.assertion("assert f(1, 2)"),
        TestCase.stdio("1\n", "1\n"), TestCase.call("f", [1, 2], 3),
    ], public_tests=[TestCase.assertion("assert f(1, 2) == 3")])  # fmt: skip
    cases, counts = cases_from_tests(problem)
    assert cases == [Case((1, 2), 3), Case((2, 2), 4)]
    assert counts == {"converted": 2, "unconverted": 2, "duplicate": 2}
    assert call_shape(problem) == FUNCTION


def test_call_shape_of_stdio_and_class_problems():
    assert call_shape(Problem("s", "p", None, [])).stdio
    assert call_shape(Problem("c", "p", "fn", [], metadata={"class_name": "Solution"})) == \
        CallShape("method", "fn", "Solution")
