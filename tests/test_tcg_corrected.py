"""Corrected DPO pairs (tcg.dpo_pairs): the generator's own answers against the same inputs with the reference's
outputs, built through the real sandbox; the verdict reading on hand-made outcomes; the option's errors."""

from __future__ import annotations

import dataclasses

import pytest

from o1coder.execution import Sandbox
from o1coder.execution.result import TestOutcome
from o1coder.models import ScriptedGenerator
from o1coder.problems import Problem, TestCase
from o1coder.tcg import Case, TCGConfig, parse_cases
from o1coder.tcg.corrected import STDOUT_SHOWN, corrected_cases, corrected_rows, training_pairs

HALF = Problem("t/half", "Halve a number; negative numbers are refused.", "half",
               [TestCase.call("half", [4], 2), TestCase.call("half", [10], 5)],
               reference="def half(x):\n    if x < 0:\n        raise ValueError(x)\n    return x // 2")
SHOUT = Problem("t/shout", "Print the input in capitals.", None, [TestCase.stdio("hi\n", "HI\n")],
                reference="print(input().upper())")
NO_REFERENCE = Problem("t/none", "No reference.", "f", [TestCase.call("f", [1], 1)])


def answer(*pairs: tuple[str, str]) -> str:
    return "\n\n".join(f"<input>\n{given}\n</input>\n<output>\n{expected}\n</output>" for given, expected in pairs)


def cases_of(chat_completion, stdio: bool = False) -> list[Case]:
    return parse_cases(chat_completion[0]["content"], stdio=stdio).cases


def test_outputs_are_corrected_inputs_the_reference_refuses_are_dropped_and_right_answers_give_no_pair():
    answers = {
        "t/half": [answer(("[4]", "2"), ("[7]", "4"), ("[-2]", "-1")),  # right, wrong (3), refused input
                   answer(("[6]", "3"), ("[8]", "4"))],  # all right: no pair
        "t/shout": [answer(("abc", "abc"), ("Q", "Q"))],  # both wrong
    }

    def respond(prompt, params, n):
        problem = "t/half" if "Halve" in prompt[0]["content"] else "t/shout"
        return [answers[problem][k % len(answers[problem])] for k in range(n)]

    config = TCGConfig(corrected_samples=2)
    with Sandbox(workers=1) as sandbox:
        rows, report = corrected_rows([HALF, SHOUT, NO_REFERENCE], ScriptedGenerator(respond), config, sandbox)
    by_problem = {}
    for row in rows:
        by_problem.setdefault(row["problem_id"], []).append(row)
    [half] = by_problem["t/half"]
    assert cases_of(half["chosen"]) == [Case((4,), 2), Case((7,), 3)]
    assert cases_of(half["rejected"]) == [Case((4,), 2), Case((7,), 4), Case((-2,), -1)]
    assert "def half" in half["prompt"][0]["content"]  # the reference is shown, as at evaluation
    shout = by_problem["t/shout"]
    assert len(shout) == 2  # two samples of the one answer, both wrong
    assert cases_of(shout[0]["chosen"], stdio=True) == [Case("abc\n", "ABC\n", True), Case("Q\n", "Q\n", True)]
    assert cases_of(shout[0]["rejected"], stdio=True) == [Case("abc\n", "abc\n", True), Case("Q\n", "Q\n", True)]
    counts = report.to_dict()
    assert counts["rows"] == 3 and counts["problems"] == 3 and counts["skipped_no_solution"] == 1
    assert counts["answers_sampled"] == 4 and counts["answers_all_valid"] == 1


def test_verdicts_are_read_only_where_they_name_the_output():
    call = [Case((1,), 5), Case((2,), 0), Case((3,), 1)]
    outcomes = [TestOutcome("failed", "returned None, expected 5", actual=None),  # None is a real return value
                TestOutcome("passed", actual=0), TestOutcome("timeout", "cpu limit")]
    assert corrected_cases(call, outcomes) == [Case((1,), None), Case((2,), 0)]
    assert corrected_cases(call, outcomes[:2]) is None  # the run stopped early
    exited = [TestOutcome("failed", "the program exited"), *outcomes[1:]]
    assert corrected_cases(call, exited) is None  # a failure that names no output
    stdio = [Case("a\n", "b\n", True)]
    assert corrected_cases(stdio, [TestOutcome("failed", "printed", stdout="A\n")]) == [Case("a\n", "A\n", True)]
    assert corrected_cases(stdio, [TestOutcome("failed", "printed", stdout="x" * STDOUT_SHOWN)]) is None
    assert corrected_cases(call[:1], [TestOutcome("crashed", "?")]) is None


def test_the_option_is_checked_and_corrected_pairs_need_the_sft_model_and_a_sandbox():
    with pytest.raises(ValueError, match="dpo_pairs must be one of 'shuffled', 'corrected', 'both'"):
        TCGConfig(dpo_pairs="mine")
    with pytest.raises(ValueError, match="corrected_samples"):
        TCGConfig(corrected_samples=0)
    config = TCGConfig(dpo_pairs="corrected")
    with pytest.raises(ValueError, match=r"needs the SFT model folder \(--sft\), a sandbox; give them, or set "
                                         "tcg.dpo_pairs=shuffled"):
        training_pairs([HALF], config, model_config=object())
    shuffled, report = training_pairs([HALF], dataclasses.replace(config, dpo_pairs="shuffled"))
    assert len(shuffled) == report.rows == 1  # the paper's pair needs neither
