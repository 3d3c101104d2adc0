"""Prompts: the pseudocode prompt (chat and raw) and the vanilla prompt, checked on their exact structure."""

from __future__ import annotations

from o1coder.problems import Problem, TestCase
from o1coder.reasoning import (
    DEFAULT_EXAMPLES,
    END_OF_STEP,
    EXAMPLES,
    PSEUDOCODE_INSTRUCTION,
    STEP_STOP_STRINGS,
    TRACE_STOP_STRINGS,
    VANILLA_INSTRUCTION,
    VANILLA_STOP_STRINGS,
    Action,
    Step,
    extract_program,
    format_question,
    parse,
    parse_steps,
    pseudocode_messages,
    pseudocode_prompt,
    render_trace,
    vanilla_messages,
    vanilla_prompt,
)
from o1coder.reasoning.prompts import function_signature, vanilla_answer

FUNCTION = Problem(
    id="t/double", prompt="Return twice the input.", entry_point="double",
    tests=[TestCase.assertion("assert double(2) == 4"), TestCase.assertion("assert double(0) == 0")],
    public_tests=[TestCase.assertion("assert double(2) == 4")],
    reference="def double(x: int) -> int:\n    return 2 * x",
)
STDIO = Problem(id="t/echo", prompt="Print the input number plus one.", entry_point=None,
                tests=[TestCase.stdio("41\n", "42\n")], public_tests=[TestCase.stdio("41\n", "42\n")])
STEPS = [Step(Action.STRUCTURE, "Outline", "One function.", "double(x) -> 2x"),
         Step(Action.REFINE, "Detail", "", "return x + x")]


def test_question_for_a_function_problem():
    assert format_question(FUNCTION) == (
        "Return twice the input.\n\n"
        "Write a Python function `double(x: int) -> int`.\n\n"
        "Your code should pass these tests:\nassert double(2) == 4"
    )
    assert "assert" not in format_question(FUNCTION, show_public_tests=False)


def test_question_names_the_function_without_a_reference_and_shows_call_tests():
    problem = Problem("t/f", "Do it.", "f", [], public_tests=[TestCase.call("f", [1, "a"], (1, 2))])
    assert function_signature(problem) is None
    assert format_question(problem) == ("Do it.\n\nWrite a Python function named `f`.\n\n"
                                        "Your code should pass these tests:\nassert f(1, 'a') == (1, 2)")


def test_question_for_a_stdio_problem():
    question = format_question(STDIO)
    assert question == (
        "Print the input number plus one.\n\n"
        "Write a complete Python program: it reads its input from standard input and prints the answer to "
        "standard output.\n\n"
        "Example input:\n```\n41\n```\nExpected output:\n```\n42\n```"
    )


def test_instruction_describes_the_three_actions_and_the_format():
    for needle in ("Action 1 (structure)", "Action 2 (refine)", "Action 3 (code)", END_OF_STEP, "```pseudocode",
                   "```python", "can be repeated", "ends the solution"):
        assert needle in PSEUDOCODE_INSTRUCTION, needle


def test_raw_pseudocode_prompt_structure():
    prompt = pseudocode_prompt(FUNCTION, STEPS)
    assert prompt.startswith(PSEUDOCODE_INSTRUCTION + "\n\n### Problem\n")
    assert prompt.count("### Problem\n") == len(DEFAULT_EXAMPLES) + 1
    assert prompt.count("### Solution\n") == len(DEFAULT_EXAMPLES) + 1
    # the prompt ends with the question, then the steps so far, exactly as a response would hold them
    assert prompt.endswith(f"### Problem\n{format_question(FUNCTION)}\n\n### Solution\n{render_trace(STEPS)}")
    for example in DEFAULT_EXAMPLES:
        assert f"### Problem\n{format_question(example.problem)}\n\n### Solution\n" \
               f"{render_trace(example.steps).rstrip()}\n\n" in prompt
    assert pseudocode_prompt(FUNCTION).endswith("### Solution\n")
    zero_shot = pseudocode_prompt(FUNCTION, examples=())
    assert zero_shot == f"{PSEUDOCODE_INSTRUCTION}\n\n### Problem\n{format_question(FUNCTION)}\n\n### Solution\n"


def test_chat_pseudocode_prompt_structure():
    messages = pseudocode_messages(FUNCTION, examples=EXAMPLES)
    roles = [m["role"] for m in messages]
    assert roles == ["system"] + ["user", "assistant"] * len(EXAMPLES) + ["user"]
    assert messages[0]["content"] == PSEUDOCODE_INSTRUCTION
    assert messages[1]["content"] == format_question(EXAMPLES[0].problem)
    assert messages[2]["content"] == render_trace(EXAMPLES[0].steps)
    assert messages[-1] == {"role": "user", "content": format_question(FUNCTION)}

    continued = pseudocode_messages(FUNCTION, STEPS)
    assert continued[-1] == {"role": "assistant", "content": render_trace(STEPS)}  # to be continued by the model
    assert continued[-2] == {"role": "user", "content": format_question(FUNCTION)}

    folded = pseudocode_messages(FUNCTION, examples=(), system_role=False)
    assert folded == [{"role": "user", "content": f"{PSEUDOCODE_INSTRUCTION}\n\n{format_question(FUNCTION)}"}]


def test_stop_strings_end_generation_after_one_step():
    assert STEP_STOP_STRINGS[0] == END_OF_STEP
    assert all(s not in PSEUDOCODE_INSTRUCTION.split(END_OF_STEP)[0] for s in TRACE_STOP_STRINGS)
    # a model that runs on into the next few-shot problem is cut at the problem heading
    continuation = render_trace(STEPS[:1]) + "\n### Problem\nanother"
    cut = min(continuation.find(s) for s in STEP_STOP_STRINGS if s in continuation)
    assert parse(continuation[:cut]).step == STEPS[0]
    assert "\n### Problem" in VANILLA_STOP_STRINGS


def test_vanilla_prompts():
    prompt = vanilla_prompt(FUNCTION, examples=EXAMPLES[:1])
    answer = vanilla_answer(EXAMPLES[0])
    assert prompt == (f"{VANILLA_INSTRUCTION}\n\n### Problem\n{format_question(EXAMPLES[0].problem)}\n\n"
                      f"### Answer\n{answer}\n\n### Problem\n{format_question(FUNCTION)}\n\n### Answer\n")
    assert "Action" not in prompt and END_OF_STEP not in prompt
    assert extract_program(answer, EXAMPLES[0].problem.entry_point).code == EXAMPLES[0].steps[-1].code
    messages = vanilla_messages(STDIO)
    assert [m["role"] for m in messages] == ["system"] + ["user", "assistant"] * len(DEFAULT_EXAMPLES) + ["user"]
    assert messages[0]["content"] == VANILLA_INSTRUCTION
    assert messages[-1]["content"] == format_question(STDIO)


def test_few_shot_examples_are_canonical_and_complete():
    assert 2 <= len(EXAMPLES) <= 3 and all(e in EXAMPLES for e in DEFAULT_EXAMPLES)
    assert {e.problem.is_stdio for e in DEFAULT_EXAMPLES} == {True, False}
    for example in EXAMPLES:
        assert [r.step for r in parse_steps(render_trace(example.steps))] == list(example.steps)
        assert example.steps[-1].code == example.problem.reference
        assert len(example.problem.tests) >= 3
