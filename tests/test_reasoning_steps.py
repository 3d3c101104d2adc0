"""The step format: canonical rendering, round trips over many generated steps, and tolerant parsing of what real
models write (and of hostile text, which must never raise or hang)."""

from __future__ import annotations

import random
import time

import pytest

from o1coder.reasoning.steps import (
    END_OF_STEP,
    Action,
    ParseResult,
    Step,
    parse,
    parse_steps,
    render,
    render_trace,
    step_end_offsets,
)

REFINE = Step(Action.REFINE, "Track the running maximum", "Scan once and keep the largest value seen so far.",
              "function largest(nums):\n    best <- nums[0]\n    for x in nums: best <- max(best, x)\n    return best")
CODE = Step(Action.CODE, "Write the function", "", code="def largest(nums):\n    return max(nums)")


# ------------------------------------------------------------------------------------------------ the format


def test_render_is_the_documented_format():
    assert render(REFINE) == (
        "Action 2 (refine): Track the running maximum\n"
        "Scan once and keep the largest value seen so far.\n"
        "```pseudocode\n"
        "function largest(nums):\n"
        "    best <- nums[0]\n"
        "    for x in nums: best <- max(best, x)\n"
        "    return best\n"
        "```\n"
        "<|end_step|>"
    )
    assert render(CODE) == ("Action 3 (code): Write the function\n```python\ndef largest(nums):\n"
                            "    return max(nums)\n```\n<|end_step|>")
    assert render(Step(Action.STRUCTURE, "", "", "f(x) -> y")).startswith("Action 1 (structure)\n```pseudocode\n")


def test_code_with_backtick_fences_gets_a_longer_fence():
    step = Step(Action.CODE, "t", code='s = """\n```\n````python\n"""')
    text = render(step)
    assert text.split("\n")[1] == "`````python"
    assert parse(text).step == step


def test_actions():
    assert [int(a) for a in Action] == [1, 2, 3]
    assert Action.CODE.is_terminal and not Action.REFINE.is_terminal
    assert [a.word for a in Action] == ["structure", "refine", "code"]
    assert Action.coerce("Refine") is Action.REFINE
    assert Action.coerce("3") is Action.CODE
    assert Action.coerce(1) is Action.STRUCTURE
    for bad in (0, 4, "improve", None, True, 2.5j):
        with pytest.raises(ValueError, match="1, 2, 3"):
            Action.coerce(bad)


def test_step_canonical_form_and_dict_round_trip():
    step = Step(2, "  a\n title  ", "\n  why \n", "\n\n  x <- 1  \n\n", "")
    assert step.action is Action.REFINE
    assert step.title == "a title"
    assert step.explanation == "why"
    assert step.pseudocode == "  x <- 1"
    assert Step.from_dict(step.to_dict()) == step
    assert step.to_dict() == {"action": 2, "title": "a title", "explanation": "why", "pseudocode": "  x <- 1",
                              "code": ""}
    assert len(Step(1, "x" * 1000, "", "p").title) == 200
    with pytest.raises(ValueError, match="unknown step fields"):
        Step.from_dict({"action": 1, "pseudo": "x"})
    with pytest.raises(ValueError, match="action"):
        Step.from_dict({"title": "no action"})


def test_issues_explain_invalid_steps():
    assert REFINE.issues() == [] and CODE.issues() == []
    assert "must contain Python code" in Step(Action.CODE, "t", "e").issues()[0]
    assert "must contain pseudocode" in Step(Action.STRUCTURE, "t", "e", code="x = 1").issues()[0]
    assert "end-of-step marker" in Step(Action.CODE, code=f"s = '{END_OF_STEP}'").issues()[0]
    assert "code fence" in Step(Action.REFINE, "t", "see\n```\nx", "p").issues()[0]
    assert "step header" in Step(Action.REFINE, "t", "intro\nAction 3 (code): later", "p").issues()[0]


# ------------------------------------------------------------------------------------ round trips (property style)

_WORDS = ["x", "loop", "résumé", "数据", "naïve", "Ω", "emoji🙂", "tab\there", "a_b", "if", "Step", "code", "refine",
          "(", ")", ":", "-", "**", "#", "'''", '"""', "`", "``", "~~~", "<|", "|>", "end", "\\", "$", "{}", "\x1b",
          "\x00", "\u2028", "\x0c", "\u00a0", "<end>"]
_CODE_LINES = ["def f(x):", "    return x", 's = """doc"""', "t = '''more'''", "x = '`' * 3", "```", "````",
               "~~~", "    ```python", "# Step 2: refine the loop", "Action 3 (code): inside a block", "",
               "   ", "\tindented()", "print('<|end')", "ünïcödé = 1", "# ```", "    ", "y = {'a': [1, 2]}",
               "\x1b[31m", "\u2028", "### Problem"]


def _random_text(rng, n_words):
    return " ".join(rng.choice(_WORDS) for _ in range(n_words))


def _random_block(rng):
    return "\n".join(rng.choice(_CODE_LINES + [_random_text(rng, 3)]) for _ in range(rng.randint(0, 8)))


def _random_step(rng):
    action = rng.choice(list(Action))
    explanation = "\n".join(_random_text(rng, rng.randint(0, 6)) for _ in range(rng.randint(0, 3)))
    return Step(action, _random_text(rng, rng.randint(0, 6)), explanation,
                _random_block(rng) if action is not Action.CODE or rng.random() < 0.3 else "",
                _random_block(rng) if action is Action.CODE or rng.random() < 0.2 else "")


def _valid_steps(seed, n):
    rng, steps = random.Random(seed), []
    while len(steps) < n:
        step = _random_step(rng)
        if not step.issues():
            steps.append(step)
    return steps


def test_parse_inverts_render_for_many_valid_steps():
    for step in _valid_steps(0, 600):
        text = render(step)
        result = parse(text)
        assert result.ok, (text, result.errors)
        assert result.step == step, text
        assert render(result.step) == text
        assert result.warnings == ()  # canonical text is read without complaint


def test_handwritten_edge_steps_round_trip():
    steps = [
        Step(Action.CODE, "", "", code="x = 1"),  # empty title and explanation
        Step(Action.CODE, "ünïcödé ✓", "Ünïcode 说明 — fine.", code="s = '🙂'\nprint(s)"),
        Step(Action.CODE, "quotes", "", code='def f():\n    """Doc with ``` inside."""\n    return "```"'),
        Step(Action.REFINE, "both", "", "p <- 1", "p = 1"),
        Step(Action.CODE, "both", "", "p <- 1", "p = 1"),
        Step(Action.STRUCTURE, "- dash title", ": starts with colon", "  indented first line\nnext"),
        Step(Action.STRUCTURE, "(parenthesised) title", "", "```\nnested fence in pseudocode\n```"),
        Step(Action.CODE, "tildes", "", code="~~~\nx = 1\n~~~~~~"),
        Step(Action.REFINE, "t", "Step through the list once.", "p"),  # prose that starts like a header
        Step(Action.REFINE, "t", "Step-by-step, we refine the code.\nActions: none.", "p"),
    ]
    for step in steps:
        assert not step.issues(), step
        assert parse(render(step)).step == step, render(step)


def test_traces_round_trip_with_end_offsets():
    rng = random.Random(1)
    pool = _valid_steps(2, 200)
    for _ in range(100):
        steps = rng.sample(pool, rng.randint(1, 6))
        text = render_trace(steps)
        assert [r.step for r in parse_steps(text)] == steps
        offsets = step_end_offsets(steps)
        assert len(offsets) == len(steps)
        for k, offset in enumerate(offsets):
            assert text[:offset].endswith(END_OF_STEP)
            assert text[:offset + 1] == render_trace(steps[:k + 1])  # the state after k + 1 steps is a prefix
    assert render_trace([]) == "" and step_end_offsets([]) == []


def test_canonicalising_is_idempotent_on_arbitrary_text():
    """Whatever a model wrote, once parsed and rendered, reads back as the same step (search nodes store this)."""
    rng = random.Random(3)
    pieces = _CODE_LINES + ["Action 2 (refine): t", "Step 3 - Write the code", END_OF_STEP, "```python", "```",
                            "Action: structure", "Refine:", "prose sentence here.", "<end_step>", "**Step 1**"]
    for _ in range(1500):
        text = "\n".join(rng.choice(pieces + [_random_text(rng, 4)]) for _ in range(rng.randint(0, 14)))
        for result in parse_steps(text):
            if result.ok:
                again = parse(render(result.step))
                assert again.step == result.step, (text, render(result.step))


# ----------------------------------------------------------------------------------- what real models write


def _read(text) -> ParseResult:
    result = parse(text)
    assert result.ok, result.errors
    return result


def test_missing_end_marker_is_a_warning():
    result = _read(render(REFINE)[: -len(END_OF_STEP)])  # stop strings usually cut the marker off
    assert result.step == REFINE
    assert any("marker" in w for w in result.warnings)


def test_prose_before_and_after_the_step():
    text = f"Sure! Here is the next step.\n\n{render(REFINE)}\nLet me know if you want the code."
    result = _read(text)
    assert result.step == REFINE
    assert any("before the step" in w for w in result.warnings)
    assert any("after the step" in w for w in result.warnings)


@pytest.mark.parametrize("header, action, title", [
    ("Action 2 (refine): Track it", Action.REFINE, "Track it"),
    ("Action: refine", Action.REFINE, "refine"),
    ("Step 2 - Refine the pseudocode", Action.REFINE, "Refine the pseudocode"),
    ("**Step 2: Refine the pseudocode**", Action.REFINE, "Refine the pseudocode"),
    ("### Action 1: Define the structure", Action.STRUCTURE, "Define the structure"),
    ("ACTION 1 (STRUCTURE): OUTLINE", Action.STRUCTURE, "OUTLINE"),
    ("action 2 (Refine) - more detail", Action.REFINE, "more detail"),
    ("Step 1 (structure): outline", Action.STRUCTURE, "outline"),
    ("## Refine: handle empty input", Action.REFINE, "handle empty input"),
    ("**Action 2 (refine):** bold header", Action.REFINE, "bold header"),
    ("- Action 2: loop details", Action.REFINE, "loop details"),
])
def test_headers_in_many_spellings(header, action, title):
    result = _read(f"{header}\nWhy this step.\n```\nx <- 1\n```\n{END_OF_STEP}")
    assert result.step.action is action
    assert result.step.title == title
    assert result.step.pseudocode == "x <- 1"
    assert result.step.explanation == "Why this step."


def test_a_conflicting_header_trusts_the_word():
    result = _read("Action 2 (code): write it\n```python\nx = 1\n```")
    assert result.step.action is Action.CODE
    assert any("names code" in w for w in result.warnings)


@pytest.mark.parametrize("fence_open, fence_close", [("```python", "```"), ("```", "```"), ("```py", "```"),
                                                     ("~~~python", "~~~"), ("```Python3", "```")])
def test_code_step_fences(fence_open, fence_close):
    text = f"Action 3 (code): Write it\nHere it is.\n{fence_open}\ndef f(x):\n    return x + 1\n{fence_close}\n"
    step = _read(text).step
    assert step.code == "def f(x):\n    return x + 1"
    assert step.explanation == "Here it is."


def test_code_step_without_fences():
    text = ("Step 3: Write the Python code\nHere is the implementation:\n\ndef f(x):\n    return x + 1\n\n"
            "This runs in constant time.")
    result = _read(text)
    assert result.step.action is Action.CODE
    assert result.step.code == "def f(x):\n    return x + 1"
    assert result.step.explanation == "Here is the implementation:"
    assert any("not in a fenced block" in w for w in result.warnings)


def test_unparseable_unfenced_code_is_kept_for_the_sandbox():
    result = _read("Action 3 (code): broken\ndef f(x)\n    return x")
    assert result.step.code == "def f(x)\n    return x"
    assert any("does not parse" in w for w in result.warnings)


def test_pseudocode_without_fences():
    text = "Action 1 (structure): Outline\nWe need one helper.\nfunction f(x) -> int\n    return g(x)"
    step = _read(text).step
    assert step.explanation == "We need one helper."
    assert step.pseudocode == "function f(x) -> int\n    return g(x)"


def test_pseudocode_in_a_python_fence():
    step = _read("Action 2 (refine): t\n```python\nfor x in items: check x\n```").step
    assert step.pseudocode == "for x in items: check x" and step.code == ""


def test_several_steps_in_one_text():
    text = render_trace([REFINE, CODE])
    first = parse(text)
    assert first.step == REFINE
    assert any("more step" in w for w in first.warnings)
    assert [r.step for r in parse_steps(text)] == [REFINE, CODE]
    # without end markers, strong headers still separate the steps
    no_markers = text.replace(END_OF_STEP, "")
    assert [r.step for r in parse_steps(no_markers)] == [REFINE, CODE]


def test_end_marker_spellings_and_windows_newlines():
    for marker in ("<|end_step|>", "<end_step>", "<|end_of_step|>", "<|END_STEP|>", "<|endstep|>"):
        text = render_trace([REFINE, CODE]).replace(END_OF_STEP, marker)
        assert [r.step for r in parse_steps(text)] == [REFINE, CODE], marker
    assert parse(render(REFINE).replace("\n", "\r\n")).step == REFINE


def test_headerless_python_is_read_as_a_code_step():
    result = _read("```python\ndef f():\n    return 1\n```")
    assert result.step.action is Action.CODE
    assert any("no action named" in w for w in result.warnings)


def test_failed_steps_say_why():
    result = parse("Action 2 (refine): a title and nothing else")
    assert result.failed and result.step is None
    assert result.action is Action.REFINE
    assert "must contain pseudocode" in result.errors[0]

    result = parse("Action 3 (code): I will now write the code.")
    assert result.failed and "must contain Python code" in result.errors[0]

    result = parse("I am not sure how to solve this.")
    assert result.failed and "no step header" in result.errors[0]

    result = parse("Step 2:\n```\nsomething\n```")
    assert result.failed and "which action" in result.errors[0]

    for empty in ("", "   \n\n", None):
        result = parse(empty)
        assert result.failed and result.errors


# ---------------------------------------------------------------------------------------------- hostile input


def _hostile_texts():
    rng = random.Random(4)
    alphabet = "ab \n\t`~#*:()-<|>_\\\"'\x00\x1b\u2028\r" + "Actionstepcodrfiu123"
    yield from ["", "\x00" * 100, "`" * 100_000, "~" * 100_000, " " * 1_000_000, "(" * 100_000,
                "\n" * 200_000, END_OF_STEP * 10_000, "```\n" * 5000, "````\n```\n```\n````\n" * 1000,
                "Action 2 (refine):" + " " * 500_000 + "x", "Action" + " " * 500_000, "Step" + "#" * 500_000 + "2",
                "```python\n" + "x = (" * 50_000, "Action 3 (code)\n" + "def f():\n" * 20_000,
                "Action 3 (code)\n" + "if x:\n" + " " * 100_000, "<" + "|" * 100_000,
                "Action 1 (structure): t\n" + "word " * 200_000,
                "".join(rng.choice(alphabet) for _ in range(1_000_000))]
    for _ in range(300):
        yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 400)))


def test_hostile_text_never_raises_or_hangs():
    for text in _hostile_texts():
        started = time.perf_counter()
        results = parse_steps(text)
        first = parse(text)
        elapsed = time.perf_counter() - started
        assert elapsed < 10, (text[:80], elapsed)
        assert isinstance(first, ParseResult)
        for result in results + [first]:
            assert result.ok == (result.step is not None)
            assert result.ok or result.errors
            if result.ok:
                assert not result.step.issues()


def test_non_text_input_is_a_failed_result():
    assert parse(12345).failed
    assert parse_steps(None) == []
