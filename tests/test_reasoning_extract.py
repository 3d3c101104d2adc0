"""extract_program on answers shaped like real model output: fenced or not, several blocks, sample I/O, cut-off
generation, missing entry points, and garbage."""

from __future__ import annotations

import random
import time

import pytest

from o1coder.reasoning import END_OF_STEP, Action, Step, extract_program, render, render_trace

SOLUTION = "def add(a, b):\n    return a + b"


@pytest.mark.parametrize("text", [
    f"```python\n{SOLUTION}\n```",
    f"```\n{SOLUTION}\n```",
    f"~~~python\n{SOLUTION}\n~~~",
    f"```py\n{SOLUTION}\n```",
    f"Let me think. We add the numbers.\n\n```python\n{SOLUTION}\n```\n\nThis is O(1).",
    f"Here is the function:\n\n{SOLUTION}\n\nIt returns the sum.",
    SOLUTION,
    f"  ```python\n  {SOLUTION.replace(chr(10), chr(10) + '  ')}\n  ```",  # fenced inside a list item
])
def test_finds_the_solution_in_common_shapes(text):
    program = extract_program(text, "add")
    assert program.code == SOLUTION
    assert program.ok and program.parses and program.defines_entry_point


def test_prefers_the_block_with_the_entry_point_over_a_later_usage_example():
    text = f"```python\n{SOLUTION}\n```\nUsage:\n```python\nprint(add(2, 3))\n```"
    program = extract_program(text, "add")
    assert program.code == SOLUTION
    assert any("2 code blocks" in p for p in program.problems)


def test_takes_the_last_block_when_a_draft_is_corrected():
    draft = "def add(a, b):\n    return a - b"
    text = f"First try:\n```python\n{draft}\n```\nOops, fixed:\n```python\n{SOLUTION}\n```"
    assert extract_program(text, "add").code == SOLUTION


def test_stdin_program_ignores_sample_input_and_output_blocks():
    program_text = "import sys\nprint(sum(map(int, sys.stdin.read().split()[1:])))"
    text = (f"Read the numbers and add them.\n\n```python\n{program_text}\n```\n\nFor the input\n```\n3\n1 2 3\n```\n"
            f"it prints\n```\n6\n```")
    program = extract_program(text)
    assert program.code == program_text
    assert program.defines_entry_point is None and program.ok


def test_reads_a_code_step_and_a_whole_trace():
    trace = [Step(Action.STRUCTURE, "s", "", "add(a, b) -> a + b"), Step(Action.CODE, "c", "", code=SOLUTION)]
    assert extract_program(render(trace[-1]), "add").code == SOLUTION
    assert extract_program(render_trace(trace), "add").code == SOLUTION  # the pseudocode block is not Python
    assert extract_program(render(trace[-1])[: -len(END_OF_STEP)], "add").code == SOLUTION


def test_unfenced_code_step_with_the_end_marker():
    assert extract_program(f"{SOLUTION}\n{END_OF_STEP}", "add").code == SOLUTION


def test_entry_point_provided_by_assignment_import_or_class():
    assert extract_program("```python\nfrom operator import add\n```", "add").defines_entry_point
    assert extract_program("```python\nadd = lambda a, b: a + b\n```", "add").defines_entry_point
    assert extract_program("```python\nimport math as add\n```", "add").defines_entry_point
    assert extract_program("```python\ntry:\n    def add(a, b): return a + b\nexcept Exception:\n    pass\n```",
                           "add").defines_entry_point


def test_reports_a_missing_entry_point():
    program = extract_program("```python\ndef plus(a, b):\n    return a + b\n```", "add")
    assert program.code is not None and program.parses
    assert program.defines_entry_point is False and not program.ok
    assert any("'add'" in p and "plus" in p for p in program.problems)


def test_code_that_does_not_parse_is_returned_for_the_sandbox_to_judge():
    program = extract_program("```python\ndef add(a, b)\n    return a + b\n```", "add")
    assert program.code == "def add(a, b)\n    return a + b"
    assert not program.parses and not program.ok
    assert program.defines_entry_point  # the def is there, textually
    assert any("SyntaxError" in p for p in program.problems)


def test_broken_solution_beats_a_parsing_usage_line():
    text = "```python\ndef add(a, b)\n    return a + b\n```\n```python\nprint(add(1, 2))\n```"
    assert extract_program(text, "add").code.startswith("def add")


def test_unclosed_fence_from_cut_off_generation():
    program = extract_program(f"```python\n{SOLUTION}\n", "add")
    assert program.code == SOLUTION and program.source == "unclosed fence"
    assert any("not closed" in p for p in program.problems)


def test_no_code_at_all():
    for text in ("", "I cannot solve this problem.", "The answer is that you add them.", "```\n6\n```"):
        program = extract_program(text, "add")
        assert not program.ok, text
    assert extract_program("I cannot solve this problem.").code is None
    assert extract_program(None).code is None


def test_ignores_blocks_in_other_languages():
    text = f"```bash\npip install nothing\n```\n```python\n{SOLUTION}\n```\n```json\n{{\"a\": 1}}\n```"
    assert extract_program(text, "add").code == SOLUTION


def test_garbage_never_raises_or_hangs():
    rng = random.Random(5)
    alphabet = "ab \n\t`~#:()=\"'\x00\\" + "defreturnimport"
    texts = ["`" * 200_000, "```python\n" + "(" * 200_000, "\x00" * 1000, "\n" * 300_000, "def f(:\n" * 20_000,
             "x = 1\n" + "word " * 300_000, "".join(rng.choice(alphabet) for _ in range(500_000))]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300))) for _ in range(300)]
    for text in texts:
        started = time.perf_counter()
        program = extract_program(text, "f")
        assert time.perf_counter() - started < 10, text[:60]
        assert program.code is None or isinstance(program.code, str)
