"""Turn tests into what the candidate's process may see (plans), and judge what comes back, outside that process.

The honesty rule: expected values never enter the candidate's process. A call test sends only the function name and
the arguments; the returned value comes back as plain data and is compared here. An ``assert`` whose shape allows it
(comparisons, ``not``, ``and``, ``math.isclose``, plain truthiness) is split into operands: the ones that are
literals stay here, the others are evaluated in the candidate's process and compared here on plain copies, so an
object overriding ``__eq__`` or ``__bool__`` cannot pass. Only tests of another shape (several statements, loops,
HumanEval's ``check`` functions that do not decompose) run as scripts whose pass/fail the candidate's process reports.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from o1coder.execution import plain
from o1coder.execution.result import TestOutcome

if TYPE_CHECKING:  # problems imports execution.plain: a runtime import here would be circular
    from o1coder.problems import TestCase

_COMPARE = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
# EvalPlus's time rule where a reference's time is known: each input may take this many times the reference's
# time, and never less than MIN_TEST_CPU seconds (a reference's microseconds say little about a fair limit).
REFERENCE_FACTOR = 4.0
MIN_TEST_CPU = 1.0


@dataclass
class Operand:
    """One side of a check: a literal known here, or an expression the candidate's process evaluates."""

    source: str
    literal: bool = False
    value: object = None
    slot: int = -1  # index into the evaluated expressions when not a literal


@dataclass
class Check:
    """One condition of an assert: ``kind`` is "compare", "truthy", "falsy" or "isclose"."""

    kind: str
    operands: list[Operand]
    ops: list[str] = field(default_factory=list)
    rel_tol: float = 1e-9
    abs_tol: float = 0.0


@dataclass
class Plan:
    """What one test sends to the worker (``wire``) and what stays here to judge the reply."""

    wire: dict
    test: TestCase | None
    checks: list[Check] = field(default_factory=list)


def plan_tests(tests: list[TestCase]) -> list[Plan]:
    return [plan_test(t) for t in tests]


def plan_test(test: TestCase) -> Plan:
    if test.kind == "assertion":
        return _plan_assertion(test.code)
    if test.kind == "call":
        return Plan({"kind": "call", "fn": test.fn, "args": plain.encode(list(test.args))}, test)
    return Plan({"kind": "stdio", "stdin": test.stdin}, test)


def cpu_limits(tests: list[TestCase], cpu_seconds: float) -> list[float]:
    """Each test's CPU limit: ``cpu_seconds``; where the reference's time on the input is known, 4x that time (at
    least 1 s), at most ``cpu_seconds`` unless the reference itself needs more (then twice its time)."""
    return [cpu_seconds if t.reference_seconds is None else
            min(max(cpu_seconds, 2 * t.reference_seconds),
                max(MIN_TEST_CPU, REFERENCE_FACTOR * t.reference_seconds)) for t in tests]


def program_budget(tests: list[TestCase], cpu_seconds: float, program_cpu_seconds: float | None) -> float:
    """CPU seconds all the tests of one program may use together (see ``Limits.program_cpu_seconds``)."""
    if program_cpu_seconds is not None:
        return float(program_cpu_seconds)
    timed = [t.reference_seconds for t in tests if t.reference_seconds is not None]
    floor = cpu_seconds if tests and len(timed) == len(tests) else 2 * cpu_seconds
    return max(floor, REFERENCE_FACTOR * sum(timed))


@functools.lru_cache(maxsize=65536)
def _plan_assertion(code: str) -> Plan:
    """Search runs many programs against the same tests: parse each assertion once. (Plans are never mutated.)

    Besides the code, the wire names what the test refers to (``names``: every name and attribute, so the test
    process can give each its meaning in a fresh interpreter) and which names it calls (``calls``)."""
    names, attrs, calls = _names_of(code)
    checks = _decompose_assert(code)
    if checks is None:
        return Plan({"kind": "script", "code": code, "names": names, "attrs": attrs, "calls": calls}, None)
    exprs: list[str] = []
    for check in checks:
        for op in check.operands:
            if not op.literal:
                op.slot = len(exprs)
                exprs.append(op.source)
    return Plan({"kind": "exprs", "exprs": exprs, "names": names, "attrs": attrs, "calls": calls}, None, checks)


def _names_of(code: str) -> tuple[list[str], list[str], list[str]]:
    """The bare names a test uses, the attribute names, and the bare names it calls."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return [], [], []
    names, attrs, calls = set(), set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Attribute):
            attrs.add(node.attr)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            calls.add(node.func.id)
    return sorted(names), sorted(attrs), sorted(calls)


def _decompose_assert(code: str) -> list[Check] | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assert):
        return None
    return _checks_of(tree.body[0].test)


def _checks_of(node: ast.expr) -> list[Check]:
    if isinstance(node, ast.BoolOp) and isinstance(node.op, ast.And):
        return [c for value in node.values for c in _checks_of(value)]
    if isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
        return [Check("compare", [_operand(n) for n in [node.left, *node.comparators]],
                      [_COMPARE[type(op)] for op in node.ops])]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return [Check("falsy", [_operand(node.operand)])]
    if _is_isclose(node):
        kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
        # the function itself is evaluated in the candidate's process too (discarded): a test that forgot to
        # import math must fail as it would in plain Python
        return [Check("isclose", [_operand(a) for a in node.args] + [Operand(ast.unparse(node.func))],
                      rel_tol=float(kwargs.get("rel_tol", 1e-9)), abs_tol=float(kwargs.get("abs_tol", 0.0)))]
    return [Check("truthy", [_operand(node)])]


def _is_isclose(node: ast.expr) -> bool:
    if not isinstance(node, ast.Call) or len(node.args) != 2:
        return False
    f = node.func
    named = (isinstance(f, ast.Attribute) and f.attr == "isclose" and isinstance(f.value, ast.Name)
             and f.value.id == "math") or (isinstance(f, ast.Name) and f.id == "isclose")
    if not named or any(k.arg not in ("rel_tol", "abs_tol") for k in node.keywords):
        return False
    try:
        for k in node.keywords:
            float(ast.literal_eval(k.value))
    except (ValueError, TypeError, SyntaxError):
        return False
    return True


def _operand(node: ast.expr) -> Operand:
    source = ast.unparse(node)
    try:
        return Operand(source, literal=True, value=ast.literal_eval(node))
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return Operand(source)


def judge(plan: Plan, record: dict) -> TestOutcome:
    """Turn the worker's record for one test into a verdict."""
    state = record.get("state")
    cpu = float(record.get("cpu", 0.0))
    message = str(record.get("message", ""))[:500]
    if state != "ok":
        status = {"assert": "failed", "exited": "failed", "unplain": "failed"}.get(state, state)
        if status not in ("failed", "runtime_error", "timeout", "memory", "crashed"):
            status = "crashed"
        return TestOutcome(status, message, cpu_seconds=cpu)
    kind = plan.wire["kind"]
    if kind == "stdio":
        return _judge_stdio(plan.test, record, cpu)
    values = [plain.decode(v) for v in record.get("values", [])]
    if kind == "call":
        actual = values[0] if values else None
        test = plan.test
        if plain.equal(actual, test.expected, test.atol, test.rtol) or any(
                plain.equal(actual, other) for other in test.also):
            return TestOutcome("passed", actual=actual, cpu_seconds=cpu)
        return TestOutcome("failed", f"returned {plain.short_repr(actual)}, expected {plain.short_repr(test.expected)}",
                           actual=actual, cpu_seconds=cpu)
    if kind == "exprs":
        for check in plan.checks:
            failure = _failed_check(check, values)
            if failure:
                return TestOutcome("failed", failure, cpu_seconds=cpu)
    return TestOutcome("passed", cpu_seconds=cpu)


def _failed_check(check: Check, values: list) -> str | None:
    """None when the check holds, else a short message saying what was seen."""
    got = [op.value if op.literal else values[op.slot] for op in check.operands]
    if check.kind == "truthy":
        return None if _truthy(got[0]) else f"{check.operands[0].source} is {plain.short_repr(got[0])}"
    if check.kind == "falsy":
        return None if not _truthy(got[0]) else f"{check.operands[0].source} is {plain.short_repr(got[0])}"
    if check.kind == "isclose":
        a, b = got[:2]
        ok = (isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool)
              and math.isclose(a, b, rel_tol=check.rel_tol, abs_tol=check.abs_tol))
        return None if ok else f"{plain.short_repr(a)} is not close to {plain.short_repr(b)}"
    for i, op in enumerate(check.ops):
        left, right = got[i], got[i + 1]
        if not _compare(left, op, right):
            src = check.operands[i].source if not check.operands[i].literal else check.operands[i + 1].source
            return (f"{src}: {plain.short_repr(left)} {op} {plain.short_repr(right)} is false")
    return None


def _truthy(value) -> bool:
    return bool(value)  # a plain value: builtin __bool__ only


def _compare(left, op: str, right) -> bool:
    try:
        if op == "==":
            return plain.equal(left, right)
        if op == "!=":
            return not plain.equal(left, right)
        if op in _ORDER:
            return bool(_ORDER[op](left, right))
        if op == "in":
            return left in right
        if op == "not in":
            return left not in right
        same = type(left) is type(right) and left == right  # identity has no meaning across processes
        return same if op == "is" else not same
    except TypeError:
        return False


def _judge_stdio(test: TestCase, record: dict, cpu: float) -> TestOutcome:
    out = record.get("stdout", "")
    shown = out[:2000]
    if outputs_match(out, test.stdout):
        return TestOutcome("passed", cpu_seconds=cpu, stdout=shown)
    first = out.strip().splitlines()[:1]
    expected = test.stdout.strip().splitlines()[:1]
    return TestOutcome("failed", f"printed {plain.short_repr(first[0] if first else '', 80)}..., "
                                 f"expected {plain.short_repr(expected[0] if expected else '', 80)}...",
                       cpu_seconds=cpu, stdout=shown)


def outputs_match(actual: str, expected: str, float_tol: float = 1e-6) -> bool:
    """Whitespace-tolerant comparison of program output: same tokens in the same order.

    Tokens that are both decimal numbers with a fractional part or exponent compare within ``float_tol``
    (absolute or relative), the usual judge rule for floating-point answers.
    """
    a, e = actual.split(), expected.split()
    if a == e:
        return True
    if len(a) != len(e):
        return False
    for x, y in zip(a, e):
        if x == y:
            continue
        if not (_is_float_token(x) and _is_float_token(y)):
            return False
        fx, fy = float(x), float(y)
        if not math.isclose(fx, fy, rel_tol=float_tol, abs_tol=float_tol):
            return False
    return True


def _is_float_token(token: str) -> bool:
    if not any(c in token for c in ".eE"):
        return False
    try:
        return math.isfinite(float(token))
    except ValueError:
        return False
