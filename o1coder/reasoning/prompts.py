"""Prompts: the typed-pseudocode prompt (one step at a time) and the vanilla prompt (think, then one code block).

Each comes in two variants built from the same parts:

- chat (``*_messages``): a list of ``{"role", "content"}`` messages for instruct models: the instruction as the
  system message, each few-shot example as a user/assistant pair, then the question. When steps have already been
  taken, a final *assistant* message holds them and the model continues it (transformers:
  ``apply_chat_template(..., continue_final_message=True)``; vLLM: ``continue_final_message=True,
  add_generation_prompt=False``).
- raw (``*_prompt``): one string for base models, examples and question under ``### Problem`` / ``### Solution``
  headings; the string ends where the model should continue.

A search generates one step per call and stops at :data:`STEP_STOP_STRINGS`; sampling a whole trace in one call
uses :data:`TRACE_STOP_STRINGS`; vanilla answers use :data:`VANILLA_STOP_STRINGS`.
"""

from __future__ import annotations

import ast
from typing import Sequence

from o1coder.problems import Problem, TestCase
from o1coder.reasoning.fewshot import DEFAULT_EXAMPLES, FewShotExample
from o1coder.reasoning.steps import END_OF_STEP, Action, Step, render, render_trace

PROBLEM_HEADING = "### Problem"
SOLUTION_HEADING = "### Solution"
ANSWER_HEADING = "### Answer"

# A base model that finishes an answer tends to invent the next "### Problem"; stop there too.
STEP_STOP_STRINGS: tuple[str, ...] = (END_OF_STEP, "\n" + PROBLEM_HEADING)
TRACE_STOP_STRINGS: tuple[str, ...] = ("\n" + PROBLEM_HEADING,)
VANILLA_STOP_STRINGS: tuple[str, ...] = ("\n" + PROBLEM_HEADING,)

_FORMAT_EXAMPLE = render(Step(Action.REFINE, "<short title>", "<a sentence or two on what this step does>",
                              "<the pseudocode>"))

PSEUDOCODE_INSTRUCTION = f"""\
Solve the programming problem by reasoning in steps before writing any code. Every step takes exactly one of \
three actions:

Action 1 (structure): {Action.STRUCTURE.description}.
Action 2 (refine): {Action.REFINE.description}.
Action 3 (code): {Action.CODE.description}.

Start with action 1, refine the pseudocode as often as it helps, and finish with action 3. Write each step in \
this form, ending it with {END_OF_STEP}:

{_FORMAT_EXAMPLE}

In a code step (action 3), put the complete Python code in a ```python block instead of the pseudocode block."""

VANILLA_INSTRUCTION = """\
Solve the programming problem. First think it through step by step in plain words, then give the complete \
solution as a single ```python code block."""


def format_question(problem: Problem, *, show_public_tests: bool = True) -> str:
    """The problem as the model sees it: statement, what to write (function signature or stdin/stdout program),
    and the public tests as examples. Tests the statement already shows (MBPP's prompt carries its first assert)
    are not repeated."""
    statement = problem.prompt.strip()
    parts = [statement]
    if problem.entry_point:
        signature = function_signature(problem)
        if signature:
            parts.append(f"Write a Python function `{signature}`.")
        else:
            parts.append(f"Write a Python function named `{problem.entry_point}`.")
    else:
        parts.append("Write a complete Python program: it reads its input from standard input and prints the "
                     "answer to standard output.")
    unseen = [t for t in problem.public_tests if t.kind == "stdio" or _as_assert(t) not in statement]
    if show_public_tests and unseen:
        parts.append(_format_tests(unseen))
    return "\n\n".join(parts)


def function_signature(problem: Problem) -> str | None:
    """``name(params) -> ret`` of the entry point, read from the reference solution; None when it cannot be."""
    if not problem.entry_point or not problem.reference:
        return None
    try:
        tree = ast.parse(problem.reference)
    except (SyntaxError, ValueError, RecursionError):
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == problem.entry_point:
            returns = f" -> {ast.unparse(node.returns)}" if node.returns is not None else ""
            return f"{node.name}({ast.unparse(node.args)}){returns}"
    return None


def _format_tests(tests: Sequence[TestCase]) -> str:
    asserts = [_as_assert(t) for t in tests if t.kind != "stdio"]
    examples = [t for t in tests if t.kind == "stdio"]
    parts = []
    if asserts:
        parts.append("Your code should pass these tests:\n" + "\n".join(asserts))
    for t in examples:
        parts.append(f"Example input:\n```\n{t.stdin.rstrip()}\n```\nExpected output:\n```\n{t.stdout.rstrip()}\n```")
    return "\n\n".join(parts)


def _as_assert(test: TestCase) -> str:
    if test.kind == "assertion":
        return test.code.strip()
    args = ", ".join(repr(a) for a in test.args)
    return f"assert {test.fn}({args}) == {test.expected!r}"


# --------------------------------------------------------------------------------------------- pseudocode prompts


def pseudocode_messages(problem: Problem, steps: Sequence[Step] = (), *,
                        examples: Sequence[FewShotExample] | None = None,
                        system_role: bool = True) -> list[dict[str, str]]:
    """Chat prompt for the next step. ``examples=None`` uses :data:`DEFAULT_EXAMPLES`; ``()`` is zero-shot.
    ``system_role=False`` folds the instruction into the first user message (for templates without a system role).
    """
    shots = [(format_question(e.problem), render_trace(e.steps)) for e in _examples(examples)]
    prefix = render_trace(steps) if steps else None
    return _chat(PSEUDOCODE_INSTRUCTION, shots, format_question(problem), prefix, system_role)


def pseudocode_prompt(problem: Problem, steps: Sequence[Step] = (), *,
                      examples: Sequence[FewShotExample] | None = None) -> str:
    """Raw prompt for base models; it ends with the steps so far, where the next step begins."""
    shots = [(format_question(e.problem), render_trace(e.steps)) for e in _examples(examples)]
    return _raw(PSEUDOCODE_INSTRUCTION, shots, format_question(problem), SOLUTION_HEADING) + render_trace(steps)


# ------------------------------------------------------------------------------------------------ vanilla prompts


def vanilla_answer(example: FewShotExample) -> str:
    """An example's vanilla answer: the explanations of its reasoning steps as plain prose, then the code."""
    reasoning = " ".join(s.explanation for s in example.steps if s.explanation and not s.is_terminal)
    return f"{reasoning}\n\n```python\n{example.steps[-1].code}\n```"


def vanilla_messages(problem: Problem, *, examples: Sequence[FewShotExample] | None = None,
                     system_role: bool = True) -> list[dict[str, str]]:
    """Chat prompt for an ordinary chain-of-thought answer (the Table 1 baseline)."""
    shots = [(format_question(e.problem), vanilla_answer(e)) for e in _examples(examples)]
    return _chat(VANILLA_INSTRUCTION, shots, format_question(problem), None, system_role)


def vanilla_prompt(problem: Problem, *, examples: Sequence[FewShotExample] | None = None) -> str:
    """Raw vanilla prompt for base models, ending after the answer heading."""
    shots = [(format_question(e.problem), vanilla_answer(e)) for e in _examples(examples)]
    return _raw(VANILLA_INSTRUCTION, shots, format_question(problem), ANSWER_HEADING)


# ------------------------------------------------------------------------------------------------ the one switch


def pseudocode_input(problem: Problem, steps: Sequence[Step] = (), *,
                     examples: Sequence[FewShotExample] | None = None, chat: bool = False):
    """The pseudocode prompt in the form the policy reads: raw text (base models) or chat messages whose last
    assistant message holds the steps so far (instruct models; backends continue it). Search, evaluation and the
    training rows all go through this, so a policy is searched with the form it was trained on."""
    if chat:
        return pseudocode_messages(problem, steps, examples=examples)
    return pseudocode_prompt(problem, steps, examples=examples)


def vanilla_input(problem: Problem, *, examples: Sequence[FewShotExample] | None = None, chat: bool = False):
    """The vanilla prompt as raw text or chat messages (see :func:`pseudocode_input`)."""
    return vanilla_messages(problem, examples=examples) if chat else vanilla_prompt(problem, examples=examples)


# ------------------------------------------------------------------------------------------------------- assembly


def _examples(examples: Sequence[FewShotExample] | None) -> Sequence[FewShotExample]:
    return DEFAULT_EXAMPLES if examples is None else examples


def _chat(instruction: str, shots: list[tuple[str, str]], question: str, prefix: str | None,
          system_role: bool) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": instruction}] if system_role else []
    for shot_question, shot_answer in shots:
        messages.append({"role": "user", "content": shot_question})
        messages.append({"role": "assistant", "content": shot_answer})
    messages.append({"role": "user", "content": question})
    if not system_role:
        first = messages[0]
        first["content"] = f"{instruction}\n\n{first['content']}"
    if prefix:
        messages.append({"role": "assistant", "content": prefix})
    return messages


def _raw(instruction: str, shots: list[tuple[str, str]], question: str, answer_heading: str) -> str:
    parts = [instruction.strip() + "\n\n"]
    for shot_question, shot_answer in shots:
        parts.append(f"{PROBLEM_HEADING}\n{shot_question}\n\n{answer_heading}\n{shot_answer.rstrip()}\n\n")
    parts.append(f"{PROBLEM_HEADING}\n{question}\n\n{answer_heading}\n")
    return "".join(parts)
