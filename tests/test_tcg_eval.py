"""TCG evaluation on small data with known answers, and the mutant generator."""

from __future__ import annotations

import ast

import pytest

from o1coder.bundled import load_bundled
from o1coder.execution import Limits, Sandbox
from o1coder.problems import Problem, TestCase
from o1coder.tcg import PAPER_VALIDITY, evaluate_tests, generate_mutants
from o1coder.tcg.mutants import OPERATORS

ADD = "def add(a, b):\n    return a + b"
ABSDIFF = "def absdiff(a, b):\n    return a - b if a > b else b - a"


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(limits=Limits(cpu_seconds=0.5, wall_seconds=3), workers=2) as sb:
        yield sb


def test_mutants_differ_from_the_reference_and_compile():
    references = [p.reference for p in load_bundled()[:12]]
    for code in references:
        mutants = generate_mutants(code, None)
        original = ast.unparse(ast.parse(code))
        assert mutants and len({m.code for m in mutants}) == len(mutants)
        for m in mutants:
            assert m.code != original and m.operator in OPERATORS and m.line >= 1
            compile(m.code, "<mutant>", "exec")
    every = {m.operator for code in references for m in generate_mutants(code, None)}
    assert every == set(OPERATORS)


@pytest.mark.parametrize("code, expected", [
    (ADD, {"return a - b"}),
    ("def f(xs):\n    return [xs[i] for i in range(1, len(xs))]",
     {"xs[i + 1]", "xs[i - 1]", "range(2, len(xs))", "range(0, len(xs))", "range(1, len(xs) + 1)",
      "range(1, len(xs) - 1)", "range(1 + 1, len(xs))"}),
    ("def f(a, b):\n    return a < b and not a", {"a <= b", "a < b or not a", "return a < b and a"}),
    ("def f(s):\n    'doc 1'\n    return s[:2] == True", {"s[:2 + 1]", "s[:2 - 1]", "s[:3]", "s[:1]", "!= True",
                                                         "== False"}),
])  # fmt: skip
def test_mutation_operators(code, expected):
    mutants = [m.code for m in generate_mutants(code, None)]
    for fragment in expected:
        assert any(fragment in m for m in mutants), (fragment, mutants)
    assert all("doc 1" in m for m in mutants if "doc" in code)  # strings (docstrings) are left alone


def test_mutant_choice_is_seeded_and_balanced():
    code = load_bundled()[0].reference
    assert generate_mutants(code, 5, seed=1) == generate_mutants(code, 5, seed=1)
    assert len({m.operator for m in generate_mutants(code, 5)}) == 5
    assert generate_mutants("def broken(:\n", 5) == []


def test_known_answers(sandbox):
    add = Problem("t/add", "Add.", "add", [TestCase.call("add", [1, 2], 3)], reference=ADD)
    absdiff = Problem("t/absdiff", "Distance.", "absdiff", [TestCase.call("absdiff", [3, 1], 2)], reference=ABSDIFF)
    generated = {
        # valid and kills a - b; valid but kills nothing; invalid (the reference fails it)
        "t/add": [TestCase.call("add", [2, 3], 5), TestCase.call("add", [0, 0], 0), TestCase.call("add", [1, 1], 3)],
        # valid, and catches the mutant `b + a` that the dataset's only test (3, 1) never reaches
        "t/absdiff": [TestCase.call("absdiff", [1, 3], 2)],
    }
    report = evaluate_tests([add, absdiff], generated, sandbox, max_mutants=None)
    rows = {p.problem_id: p for p in report.problems}
    assert (rows["t/add"].generated, rows["t/add"].valid, rows["t/add"].mutants) == (3, 2, 1)
    assert (rows["t/add"].killed_by_dataset, rows["t/add"].killed_by_generated) == (1, 1)
    # absdiff: `a + b if ...` (dataset kills), `... else b + a` (only generated kills), `a >= b` (equivalent)
    ab = rows["t/absdiff"]
    assert (ab.mutants, ab.killed_by_dataset, ab.killed_by_generated, ab.killed_by_both) == (3, 1, 1, 0)
    assert (ab.survivors, ab.survivors_killed_by_generated) == (2, 1)
    d = report.to_dict()
    assert d["validity"] == pytest.approx(3 / 4) and d["paper_validity"] == PAPER_VALIDITY
    assert d["kill_rate"] == pytest.approx(1 / 2) and d["dataset_kill_rate"] == pytest.approx(2 / 4)
    assert (d["survivors"], d["survivors_killed_by_generated"]) == (2, 1)
    assert any("80.8%" in line and "75.0%" in line for line in report.summary_lines())


def test_problems_that_cannot_be_evaluated_are_counted_apart(sandbox):
    broken = Problem("t/broken", "Add.", "add", [TestCase.call("add", [1, 2], 3)], reference="def add(a, b): return 0")
    problems = [
        Problem("t/noref", "Add.", "add", [TestCase.call("add", [1, 2], 3)]),
        Problem("t/nogen", "Add.", "add", [TestCase.call("add", [1, 2], 3)], reference=ADD),
        broken,
    ]
    report = evaluate_tests(problems, {"t/noref": [TestCase.call("add", [1, 1], 2)],
                                       "t/broken": [TestCase.call("add", [1, 1], 0)]}, sandbox)
    assert [p.status for p in report.problems] == ["no_reference", "no_generated", "reference_fails_dataset"]
    assert report.validity is None and report.kill_rate is None
    assert report.to_dict()["statuses"] == {"no_reference": 1, "no_generated": 1, "reference_fails_dataset": 1}


def test_stdio_problems_and_looping_mutants(sandbox):
    code = "n = int(input())\ni = 0\nwhile i < n:\n    i += 1\nprint(i)"
    problem = Problem("t/count", "Count to n.", None, [TestCase.stdio("3\n", "3\n")], reference=code)
    report = evaluate_tests([problem], {"t/count": [TestCase.stdio("5\n", "5\n")]}, sandbox, max_mutants=None)
    [row] = report.problems
    # mutants: i = 1 / i = -1 (equivalent for n >= 1), i += 2, i += 0 and i -= 1 (endless: timeout), i <= n
    assert (row.valid, row.mutants, row.killed_by_dataset, row.killed_by_generated, row.killed_by_both) == \
        (1, 6, 4, 4, 4)
    assert row.survivors == 2 and row.survivors_killed_by_generated == 0
