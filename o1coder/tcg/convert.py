"""Between the dataset's tests and TCG cases: how a problem's code is called, and simple asserts made into cases.

Training answers are written from a problem's own tests, which come in three forms (see
:class:`o1coder.problems.TestCase`). Call and stdin/stdout tests map to cases directly. Assertions (MBPP, the
bundled problems, TACO's class-based problems) are read with ``ast``: a single ``assert f(<literals>) == <literal>``
(either side, ``is`` for True/False/None) on the problem's function becomes a case; anything else (helpers,
several statements, tolerances, keyword arguments) is skipped and counted, because guessing its meaning could
teach the model a wrong output.
"""

from __future__ import annotations

import ast
import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from o1coder.loaders._literal import call_source, python_literal
from o1coder.problems import Problem, TestCase
from o1coder.tcg.cases import Case, literal_value


@dataclass(frozen=True)
class CallShape:
    """How a problem's code is run: a function, a method of a class built without arguments, or stdin/stdout."""

    kind: Literal["function", "method", "stdio"]
    fn: str | None = None
    class_name: str | None = None

    @property
    def stdio(self) -> bool:
        return self.kind == "stdio"


def call_shape(problem: Problem) -> CallShape:
    """The shape of ``problem``: stdin/stdout without an entry point, a method for TACO's class-based problems."""
    if problem.entry_point is None:
        return CallShape("stdio")
    class_name = problem.metadata.get("class_name")
    if isinstance(class_name, str) and class_name.isidentifier():
        return CallShape("method", problem.entry_point, class_name)
    return CallShape("function", problem.entry_point)


def case_to_test(case: Case, shape: CallShape) -> TestCase:
    """The sandbox test for a case (an assertion for methods: TestCase.call only calls top-level functions)."""
    if shape.stdio:
        return TestCase.stdio(case.input, case.output)
    if shape.kind == "method":
        call = call_source(f"{shape.class_name}().{shape.fn}", case.input)
        return TestCase.assertion(f"assert {call} == {python_literal(case.output)}")
    return TestCase.call(shape.fn, list(case.input), case.output)


def case_from_test(test: TestCase, shape: CallShape) -> Case | None:
    """The case a dataset test states, or None when it cannot be read as one input and one output."""
    if shape.stdio:
        return Case(test.stdin, test.stdout, stdio=True) if test.kind == "stdio" else None
    if test.kind == "call":
        if shape.kind != "function" or test.fn != shape.fn or test.atol:
            return None
        return Case(tuple(test.args), test.expected)
    if test.kind == "assertion":
        return case_from_assertion(test.code, shape)
    return None


def cases_from_tests(problem: Problem) -> tuple[list[Case], Counter]:
    """Every case readable from ``problem.tests`` (then public tests not already there), and what was skipped.

    The counter has ``converted`` (assertions read as cases), ``unconverted`` (tests that are not simple
    input/output pairs) and ``duplicate``.
    """
    shape = call_shape(problem)
    counts: Counter = Counter()
    cases: list[Case] = []
    seen: set[str] = set()
    for test in [*problem.tests, *problem.public_tests]:
        case = case_from_test(test, shape)
        if case is None:
            counts["unconverted"] += 1
            continue
        if test.kind == "assertion":
            counts["converted"] += 1
        key = repr((case.input, case.output))
        if key in seen:
            counts["duplicate"] += 1
            continue
        seen.add(key)
        cases.append(case)
    return cases, counts


def case_from_assertion(code: str, shape: CallShape) -> Case | None:
    """``assert f(1, [2]) == 3`` -> Case((1, [2]), 3); None for anything that is not that simple."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            module = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(module.body) != 1 or not isinstance(module.body[0], ast.Assert):
        return None
    test = module.body[0].test
    if not isinstance(test, ast.Compare) or len(test.ops) != 1:
        return None
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if _is_target_call(right, shape) and not _is_target_call(left, shape):
        left, right = right, left
    if not _is_target_call(left, shape):
        return None
    try:
        args = tuple(literal_value(a) for a in left.args)
        expected = literal_value(right)
    except ValueError:
        return None
    if isinstance(op, ast.Is):
        if not (expected is None or isinstance(expected, bool)):
            return None
    elif not isinstance(op, ast.Eq):
        return None
    return Case(args, expected)


def _is_target_call(node: ast.expr, shape: CallShape) -> bool:
    if not isinstance(node, ast.Call) or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        return False
    func = node.func
    if shape.kind == "function":
        return isinstance(func, ast.Name) and func.id == shape.fn
    # Solution().fn(...)
    return (isinstance(func, ast.Attribute) and func.attr == shape.fn and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name) and func.value.func.id == shape.class_name
            and not func.value.args and not func.value.keywords)
