"""MBPP (Austin et al. 2021): the full set (974 problems) and the hand-verified "sanitized" subset (427).

Prompt convention. The model sees the task text followed by the first ``prompt_tests`` asserts of the problem
(default 1), introduced by "Your code should pass this test:" ("these tests" for several), the usual MBPP prompt
shape. Those shown asserts are the problem's ``public_tests``; ``tests`` (hidden, for evaluation) are all the
asserts of ``test_list``. Showing one test names the function and its call shape without handing the model every
test it will be judged on; pass ``prompt_tests=3`` for the classic prompt that shows all three.

``entry_point`` is the function the first test calls (read with ``ast``: the first called name that the reference
code defines, else the first called name that is not a builtin). ``split`` follows the official task id ranges:
prompt 1-10, test 11-510, validation 511-600, train 601-974 (the ``split=`` option keeps one of them, or several
joined by "+": "train+validation").
"""

from __future__ import annotations

import ast
import builtins
import logging
import warnings

from o1coder.loaders._hub import HubSource, open_records
from o1coder.loaders._io import Record, check_limit, normalize_newlines, take
from o1coder.problems import Problem, TestCase

logger = logging.getLogger(__name__)

MBPP_HUB = HubSource("google-research-datasets/mbpp", "mbpp.jsonl", config="full")
SANITIZED_HUB = HubSource("google-research-datasets/mbpp", "sanitized-mbpp.json", config="sanitized")
SPLITS = ("prompt", "test", "validation", "train")


def split_of(task_id: int) -> str:
    """The official MBPP split of a task id (the same ranges hold for the sanitized subset)."""
    if task_id <= 10:
        return "prompt"
    if task_id <= 510:
        return "test"
    if task_id <= 600:
        return "validation"
    return "train"


def load_mbpp(path=None, *, limit: int | None = None, split: str | None = None, prompt_tests: int = 1) -> list[Problem]:
    """MBPP from ``mbpp.jsonl`` (task_id, text, code, test_list, test_setup_code, challenge_test_list) or the hub."""
    return _load("mbpp", path, MBPP_HUB, problem_from_mbpp, limit, split, prompt_tests)


def load_mbpp_sanitized(path=None, *, limit: int | None = None, split: str | None = None,
                        prompt_tests: int = 1) -> list[Problem]:
    """Sanitized MBPP from ``sanitized-mbpp.json`` (source_file, task_id, prompt, code, test_imports, test_list)."""
    return _load("mbpp-sanitized", path, SANITIZED_HUB, problem_from_sanitized, limit, split, prompt_tests)


def wanted_splits(benchmark: str, split: str | None) -> set[str] | None:
    """The split names of ``split`` ("test", or several joined by "+": "train+validation"); None for all."""
    if split is None:
        return None
    wanted = set(split.split("+")) if isinstance(split, str) else {split}
    if not wanted <= set(SPLITS):
        raise ValueError(f"{benchmark} split must be one of {', '.join(SPLITS)} or several joined by '+' (e.g. "
                         f"'train+validation'; None for all), got {split!r}")
    return wanted


def _load(benchmark, path, hub, convert, limit, split, prompt_tests) -> list[Problem]:
    limit = check_limit(limit)
    wanted = wanted_splits(benchmark, split)
    if isinstance(prompt_tests, bool) or not isinstance(prompt_tests, int) or prompt_tests < 0:
        raise ValueError(f"prompt_tests must be a non-negative integer, got {prompt_tests!r}")
    # The hub keeps the splits apart and ids are unique across them, so reading all splits matches the file.
    problems = (convert(record, prompt_tests) for record in open_records(benchmark, path, hub))
    if wanted is not None:
        problems = (p for p in problems if p.metadata["split"] in wanted)
    return list(take(problems, limit))


def problem_from_mbpp(record: Record, prompt_tests: int = 1) -> Problem:
    task_id = record.get("task_id", int)
    text = record.get("text")
    code = normalize_newlines(record.get("code"))
    test_list = _tests(record, "test_list")
    first_test = test_list[0]
    test_setup = normalize_newlines(record.get("test_setup_code", str, "")).strip()
    if test_setup:
        # MBPP's setup code builds objects from the solution's own classes (tasks 367 and 927 build trees of its
        # `Node`), so it must run after the candidate: it goes in front of each test, not into Problem.setup.
        test_list = [f"{test_setup}\n{test}" for test in test_list]
    challenge = [normalize_newlines(t).strip() for t in record.get_str_list("challenge_test_list", [])]
    metadata = {"task_id": task_id, "split": split_of(task_id), "challenge_tests": challenge}
    if test_setup:
        metadata["test_setup_code"] = test_setup
    return _problem(f"mbpp/{task_id}", text, code, test_list, "", record, prompt_tests, metadata, first_test)


def problem_from_sanitized(record: Record, prompt_tests: int = 1) -> Problem:
    task_id = record.get("task_id", int)
    text = record.get("prompt")
    code = normalize_newlines(record.get("code"))
    test_list = _tests(record, "test_list")
    setup = "\n".join(record.get_str_list("test_imports", []))
    return _problem(f"mbpp-sanitized/{task_id}", text, code, test_list, setup, record, prompt_tests, {
        "task_id": task_id,
        "split": split_of(task_id),
        "source_file": record.get("source_file", str, ""),
    })


def _tests(record: Record, name: str) -> list[str]:
    tests = [normalize_newlines(t).strip() for t in record.get_str_list(name)]
    if not tests or not all(tests):
        raise record.error(name, "must hold at least one assert statement, and no empty ones")
    return tests


def _problem(problem_id, text, code, test_list, setup, record, prompt_tests, metadata, first_test=None) -> Problem:
    first_test = first_test or test_list[0]
    entry_point = called_function(first_test, code)
    if entry_point is None:
        raise record.error("test_list", f"cannot tell which function the first test calls: {first_test!r}")
    shown = test_list[:prompt_tests]
    return Problem(
        id=problem_id,
        prompt=mbpp_prompt(text, shown),
        entry_point=entry_point,
        tests=[TestCase.assertion(t) for t in test_list],
        public_tests=[TestCase.assertion(t) for t in shown],
        reference=code,
        setup=setup,
        metadata=metadata,
    )


def mbpp_prompt(text: str, shown_tests: list[str]) -> str:
    """The task text, then the shown asserts (see the module docstring)."""
    text = text.strip()
    if not shown_tests:
        return text
    lead = "Your code should pass this test:" if len(shown_tests) == 1 else "Your code should pass these tests:"
    return f"{text}\n{lead}\n\n" + "\n".join(shown_tests)


def called_function(test: str, code: str = "") -> str | None:
    """The function a test calls: the first called name ``code`` defines, else the first non-builtin one."""
    try:
        tree = ast.parse(test)
    except SyntaxError:
        return None
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    calls.sort(key=lambda n: (n.lineno, n.col_offset))
    names = [c.func.id for c in calls]
    defined = _defined_names(code)
    for name in names:
        if name in defined:
            return name
    return next((n for n in names if not hasattr(builtins, n)), None)


def _defined_names(code: str) -> set[str]:
    try:
        with warnings.catch_warnings():  # old MBPP code has invalid escapes like "\d" in plain strings
            warnings.simplefilter("ignore", (SyntaxWarning, DeprecationWarning))
            tree = ast.parse(code)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
