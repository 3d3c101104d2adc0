"""TCG training rows: exact SFT/DPO rows, skips counted, and token ids / completion masks as TRL builds them."""

from __future__ import annotations

import random

import pytest

from o1coder.execution import Limits, Sandbox
from o1coder.problems import Problem, TestCase
from o1coder.tcg import (
    Case,
    TCGConfig,
    dpo_rows,
    filter_by_length,
    prompt_text,
    sft_rows,
    shuffled_outputs,
    solution_variants,
    tokenize_dpo_row,
    tokenize_sft_row,
)

ADD = "def add(a, b):\n    return a + b"


def add_problem(**metadata) -> Problem:
    return Problem("t/add", "Add two numbers.", "add", tests=[
        TestCase.call("add", [1, 2], 3), TestCase.assertion("assert add(0, 0) == 0"), TestCase.call("add", [-1, 5], 4),
        TestCase.assertion("assert add(1, 1) >= 0"),  # not a plain input/output pair: skipped, counted
    ], reference=ADD, metadata=metadata)  # fmt: skip


def block(*pairs) -> str:
    return "\n\n".join(f"<input>\n{i}\n</input>\n<output>\n{o}\n</output>" for i, o in pairs)


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from o1coder.models import build_tiny_model

    return AutoTokenizer.from_pretrained(build_tiny_model())


def test_prompt_follows_the_template():
    assert prompt_text(add_problem(), ADD) == (
        "### Instruction\nWrite 3 test cases for the problem below. The code is a correct solution: each test case is "
        "an input for it and exactly the output it gives for that input. Write each input as a Python list of the "
        "arguments passed to `add` and each output as the Python value it returns. Put each input between <input> "
        "and </input> and its output right after it, between <output> and </output>.\n\n"
        "### Problem\nAdd two numbers.\n\n"
        "### Code\n```python\ndef add(a, b):\n    return a + b\n```\n\n"
        "### Test cases\n"
    )
    stdio = Problem("s", "Sum the numbers.", None, [TestCase.stdio("1 2\n", "3\n")])
    assert "as the text the program reads from standard input" in prompt_text(stdio, "print(3)")
    assert "(no solution is given" in prompt_text(stdio, None)


def test_sft_rows_are_exact():
    rows, report = sft_rows([add_problem()], TCGConfig())
    assert rows == [{
        "prompt": [{"role": "user", "content": prompt_text(add_problem(), ADD)}],
        "completion": [{"role": "assistant", "content": block(("[0, 0]", 0), ("[-1, 5]", 4), ("[1, 2]", 3))}],
        "problem_id": "t/add",
    }]  # fmt: skip
    assert report.to_dict() == {"problems": 1, "rows": 1, "assertions_converted": 1, "tests_unconverted": 1}


def test_sft_rows_plain_text_and_solution_variants():
    problem = add_problem(solutions=[ADD, "def add(a, b):\n    return sum([a, b])", "def add(a, b): return b + a"])
    rows, report = sft_rows([problem], TCGConfig(chat=False, solutions_per_problem=2, cases_per_sample=2))
    assert [r["prompt"] for r in rows] == [prompt_text(problem, ADD, 2),
                                            prompt_text(problem, "def add(a, b):\n    return sum([a, b])", 2)]
    assert all(isinstance(r["completion"], str) and r["completion"].count("<input>") == 2 for r in rows)
    assert report.rows == 2


def test_solution_variants_put_the_reference_first_and_drop_duplicates():
    problem = add_problem(solutions=["s1", ADD, "s1", "", "s2"])
    assert solution_variants(problem, 10) == [ADD, "s1", "s2"]
    assert solution_variants(problem, 2) == [ADD, "s1"]


def test_dpo_rows_are_exact():
    rows, report = dpo_rows([add_problem()], TCGConfig())
    assert rows == [{
        "prompt": [{"role": "user", "content": prompt_text(add_problem(), ADD)}],
        "chosen": [{"role": "assistant", "content": block(("[1, 2]", 3), ("[0, 0]", 0), ("[-1, 5]", 4))}],
        "rejected": [{"role": "assistant", "content": block(("[1, 2]", 0), ("[0, 0]", 4), ("[-1, 5]", 3))}],
        "problem_id": "t/add",
    }]  # fmt: skip
    assert report.rows == 1


def test_dpo_skips_what_cannot_be_shuffled():
    same = Problem("t/same", "Always 1.", "one", [TestCase.call("one", [i], 1) for i in range(4)], reference="x")
    single = Problem("t/single", "One test.", "f", [TestCase.call("f", [1], 2)], reference="x")
    untested = Problem("t/none", "No usable test.", "f", [TestCase.assertion("assert f(1) > 0")], reference="x")
    rows, report = dpo_rows([same, single, untested, add_problem()], TCGConfig())
    assert [r["problem_id"] for r in rows] == ["t/add"]
    assert report.counts["skipped_cannot_shuffle"] == 2 and report.counts["skipped_no_cases"] == 1


def test_dpo_prefers_cases_with_different_outputs():
    tests = [TestCase.call("f", [i], 0) for i in range(6)] + [TestCase.call("f", [9], 1)]
    problem = Problem("t/mostly", "Mostly 0.", "f", tests, reference="x")
    rows, _ = dpo_rows([problem], TCGConfig())
    assert len(rows) == 1 and "<output>\n1\n</output>" in rows[0]["chosen"][0]["content"]


@pytest.mark.parametrize("outputs, wrong", [
    ([1, 2, 3], 3), ([1, 1, 2], 2), ([1, 2], 2), ([5, 5, 5], None), ([7], None),
])  # fmt: skip
def test_shuffled_outputs_is_a_derangement_by_value(outputs, wrong):
    cases = [Case((i,), out) for i, out in enumerate(outputs)]
    for seed in range(5):
        shuffled = shuffled_outputs(cases, random.Random(seed))
        if wrong is None:
            assert shuffled is None
            continue
        assert [c.input for c in shuffled] == [c.input for c in cases]
        assert sorted(c.output for c in shuffled) == sorted(outputs)
        assert sum(s.output != c.output for s, c in zip(shuffled, cases)) == wrong


def test_shuffled_outputs_compare_stdout_like_the_sandbox():
    cases = [Case("1\n", "1\n", stdio=True), Case("2\n", "1  \n", stdio=True)]  # equal up to whitespace
    assert shuffled_outputs(cases, random.Random(0)) is None


def test_wrong_solution_variants_are_dropped_with_a_sandbox():
    problem = add_problem(solutions=["def add(a, b):\n    return a - b"])
    with Sandbox(limits=Limits(cpu_seconds=2, wall_seconds=5), workers=2) as sandbox:
        rows, report = sft_rows([problem], TCGConfig(), sandbox=sandbox)
    assert len(rows) == 1 and ADD in rows[0]["prompt"][0]["content"]
    assert report.counts["solutions_failed_tests"] == 1


# -- token ids, as TRL's trainers build them (the trainers' own output is compared in test_tcg_train.py) -----------
def encode(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def test_sft_token_ids_and_completion_mask(tokenizer):
    row = {"prompt": [{"role": "user", "content": "Add."}],
           "completion": [{"role": "assistant", "content": "<input>\n[1]\n</input>"}]}
    prompt = encode(tokenizer, "<|im_start|>user\nAdd.<|im_end|>\n<|im_start|>assistant\n")
    answer = encode(tokenizer, "<input>\n[1]\n</input><|im_end|>\n")
    out = tokenize_sft_row(row, tokenizer)
    assert out["input_ids"] == prompt + answer
    assert out["completion_mask"] == [0] * len(prompt) + [1] * len(answer)
    assert prompt[0] == 1 and prompt.count(1) == 2 and answer[-2:] == [2, encode(tokenizer, "\n")[0]]  # im_start/end
    assert tokenizer.decode(answer) == "<input>\n[1]\n</input><|im_end|>\n"


def test_sft_plain_text_rows_get_the_eos_token(tokenizer):
    out = tokenize_sft_row({"prompt": "Add.\n", "completion": "<input>"}, tokenizer)
    prompt, answer = encode(tokenizer, "Add.\n"), encode(tokenizer, "<input><|im_end|>")
    assert out == {"input_ids": prompt + answer, "completion_mask": [0] * len(prompt) + [1] * len(answer)}


def test_dpo_token_ids(tokenizer):
    row = {"prompt": [{"role": "user", "content": "Add."}], "chosen": [{"role": "assistant", "content": "3"}],
           "rejected": [{"role": "assistant", "content": "4"}]}
    out = tokenize_dpo_row(row, tokenizer)
    assert out == {"prompt_ids": encode(tokenizer, "<|im_start|>user\nAdd.<|im_end|>\n<|im_start|>assistant\n"),
                   "chosen_ids": encode(tokenizer, "3<|im_end|>\n"), "rejected_ids": encode(tokenizer, "4<|im_end|>\n")}


def test_over_long_rows_are_skipped_and_counted(tokenizer):
    rows, report = sft_rows([add_problem()], TCGConfig())
    pairs, _ = dpo_rows([add_problem()], TCGConfig())
    length = len(tokenize_sft_row(rows[0], tokenizer)["input_ids"])
    assert filter_by_length(rows, tokenizer, length, report) == rows and report.counts["skipped_too_long"] == 0
    assert filter_by_length(rows, tokenizer, length - 1, report) == [] and report.counts["skipped_too_long"] == 1
    assert report.rows == 0
    ids = tokenize_dpo_row(pairs[0], tokenizer)
    longest = len(ids["prompt_ids"]) + max(len(ids["chosen_ids"]), len(ids["rejected_ids"]))
    assert filter_by_length(pairs, tokenizer, longest) == pairs
    assert filter_by_length(pairs, tokenizer, longest - 1) == []
