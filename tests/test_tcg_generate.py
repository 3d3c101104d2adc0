"""TCG generation: (problem, code) -> tests through any Generator; hostile answers never crash and are counted;
the reward-tests function for MCTS filters with the reference and caches."""

from __future__ import annotations

import random

import pytest

from o1coder.execution import Limits, Sandbox
from o1coder.models import SamplingParams, ScriptedGenerator
from o1coder.problems import Problem, TestCase
from o1coder.tcg import GeneratedTests, TCGConfig, generate_tests, tcg_reward_tests
from o1coder.tcg.generate import sampling_params

ADD = Problem("t/add", "Add two numbers.", "add", [TestCase.call("add", [1, 2], 3)],
              reference="def add(a, b):\n    return a + b")
ECHO = Problem("t/echo", "Print the input.", None, [TestCase.stdio("hi\n", "hi\n")], reference="print(input())")

HOSTILE = [
    "",
    "I cannot write tests.",
    "<input>[1, 2]</input>",  # no output
    "<input>[1, 2]</input><output>3",  # truncated
    "<input>[__import__('os').system('touch /tmp/tcg-pwned')]</input><output>0</output>",
    "<input>" + "[" * 3000 + "</input><output>1</output>",
    "<input>[1, 2]</input><output>" + "9" * 100_000 + "</output>",
    "</output></input><output><input>",
    "<input>[1, 2]</input><output>3</output>" * 50,  # duplicates
    "\x00\x01<input>\udcff</input><output>\ud800</output>",
    "<input>[{1: [2]}, (3,)]</input><output>frozenset({1})</output>",  # odd but valid
]


def scripted(answers):
    return ScriptedGenerator(lambda prompt, params, n: [answers[k % len(answers)] for k in range(n)])


def test_hostile_answers_are_dropped_and_counted_never_raised():
    generator = ScriptedGenerator(lambda prompt, params, n: HOSTILE[:n])
    config = TCGConfig(samples=len(HOSTILE))
    [result] = generate_tests(generator, [(ADD, ADD.reference)], config)
    assert [t.describe() for t in result.tests] == ["add(1, 2) == 3", "add({1: [2]}, (3,)) == frozenset({1})"]
    assert result.dropped == sum(result.reasons.values()) and result.dropped >= 10
    assert result.reasons["malformed_block"] >= 3 and result.reasons["duplicate"] == 49
    assert GeneratedTests.from_dict(result.to_dict()).tests == result.tests


def test_random_hostile_answers_for_both_kinds_of_problem():
    rng = random.Random(1)
    pieces = ["<input>", "</input>", "<output>", "</output>", "[1]", "2", "x", "\n", "'", "(", "]"]
    answers = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 40))) for _ in range(200)]
    results = generate_tests(scripted(answers), [(ADD, ADD.reference), (ECHO, ECHO.reference)] * 100, TCGConfig())
    assert len(results) == 200
    for result in results:
        assert all(t.kind == ("call" if result.problem_id == "t/add" else "stdio") for t in result.tests)


def test_generation_uses_the_template_and_sampling_overrides():
    seen = []

    def respond(prompt, params, n):
        seen.append((prompt, params))
        return ["<input>\nhi\n</input>\n<output>\nhi\n</output>"] * n

    config = TCGConfig(sampling={"max_new_tokens": 77, "temperature": 0.0}, chat=False)
    [result] = generate_tests(ScriptedGenerator(respond), [(ECHO, ECHO.reference)], config,
                              SamplingParams(max_new_tokens=5, top_p=0.5))
    assert result.tests == [TestCase.stdio("hi\n", "hi\n")]
    prompt, params = seen[0]
    assert isinstance(prompt, str) and prompt.endswith("### Test cases\n") and "print(input())" in prompt
    assert (params.max_new_tokens, params.temperature, params.top_p) == (77, 0.0, 0.5)
    with pytest.raises(ValueError, match="tcg.sampling has a key"):
        sampling_params(None, TCGConfig(sampling={"max_tokens": 3}))


def test_reward_tests_keep_what_the_reference_passes_and_cache():
    answer = ("<input>[1, 2]</input><output>3</output><input>[2, 2]</input><output>5</output>"
              "<input>[0]</input><output>0</output>")
    generator = scripted([answer])
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sandbox:
        reward_tests = tcg_reward_tests(generator, sandbox)
        assert reward_tests(ADD) == [TestCase.call("add", [1, 2], 3)]  # 2 + 2 != 5; add(0) raises
        assert reward_tests(ADD) == [TestCase.call("add", [1, 2], 3)]
    assert generator.usage.calls == 1
    unfiltered = tcg_reward_tests(scripted([answer]))(ADD)
    assert len(unfiltered) == 3


def test_reward_tests_plug_into_the_search_split():
    from o1coder.search.reward import split_tests

    reward_tests = tcg_reward_tests(scripted(["<input>[1, 2]</input><output>3</output>"]))
    split = split_tests(ADD, "generated", reward_tests_fn=reward_tests)
    assert split.reward == (TestCase.call("add", [1, 2], 3),) and split.hidden == tuple(ADD.tests)


def test_tiny_model_output_goes_through_the_parser():
    from o1coder.models import build_generator

    generator = build_generator({"backend": "transformers", "name_or_path": "tiny", "device": "cpu",
                                 "dtype": "float32"})
    results = generate_tests(generator, [(ADD, ADD.reference), (ECHO, None)], TCGConfig(samples=2),
                             SamplingParams(max_new_tokens=24, seed=0))
    assert [r.problem_id for r in results] == ["t/add", "t/echo"]
    assert all(len(r.texts) == 2 for r in results)
