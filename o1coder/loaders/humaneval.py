"""HumanEval (Chen et al. 2021): 164 function-completion problems; ``test`` defines ``check(candidate)``.

The reference is ``prompt + canonical_solution`` (a complete program). Tests: when the body of ``check`` is only
``assert`` statements (docstrings and ``pass`` aside), each assert becomes one ``TestCase.assertion`` with the name
``candidate`` replaced by the entry point, so pass rates count asserts instead of being all-or-nothing; asserts of
a constant (``assert True``) test nothing and are left out. Module-level code of ``test`` other than ``check`` and
the ``METADATA`` dict (imports, helper functions) goes into ``setup``. When ``check`` does anything else (loops,
local variables, prints: 7 of the 164), the problem gets one assertion test: the whole ``test`` source followed
by ``check(<entry point>)``. ``public_tests`` is the first decomposed assert (none for the one-test problems: the
whole test would give away every hidden check).
"""

from __future__ import annotations

import ast
import logging

from o1coder.loaders._hub import HubSource, open_records
from o1coder.loaders._io import Record, check_limit, take
from o1coder.problems import Problem, TestCase

logger = logging.getLogger(__name__)

HUMANEVAL_HUB = HubSource("openai/openai_humaneval", "HumanEval.jsonl.gz", split="test")


def load_humaneval(path=None, *, limit: int | None = None) -> list[Problem]:
    """HumanEval from ``HumanEval.jsonl(.gz)`` (task_id, prompt, canonical_solution, test, entry_point) or the hub."""
    limit = check_limit(limit)
    return list(take((problem_from_humaneval(r) for r in open_records("humaneval", path, HUMANEVAL_HUB)), limit))


def problem_from_humaneval(record: Record) -> Problem:
    task_id = record.get("task_id")
    prompt = record.get("prompt")
    entry_point = record.get("entry_point")
    if not entry_point.isidentifier():
        raise record.error("entry_point", f"must be a function name, got {entry_point!r}")
    solution = record.get("canonical_solution")
    test_source = record.get("test")
    try:
        decomposed = decompose_check(test_source, entry_point)
    except SyntaxError as e:
        raise record.error("test", f"is not valid Python ({e.msg}, line {e.lineno})") from None
    if decomposed is None:
        tests = [TestCase.assertion(f"{test_source.rstrip()}\n\ncheck({entry_point})\n")]
        setup, public = "", []
    else:
        setup, asserts = decomposed
        tests = [TestCase.assertion(a) for a in asserts]
        public = tests[:1]
    return Problem(
        id=f"humaneval/{task_id.rsplit('/', 1)[-1]}",
        prompt=prompt,
        entry_point=entry_point,
        tests=tests,
        public_tests=public,
        reference=prompt + solution,
        setup=setup,
        metadata={"task_id": task_id, "tests_decomposed": decomposed is not None},
    )


def decompose_check(test_source: str, entry_point: str) -> tuple[str, list[str]] | None:
    """``(setup, asserts)`` when ``check`` is a list of asserts, else None (see the module docstring)."""
    tree = ast.parse(test_source)
    check = None
    setup_nodes = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "check":
            check = node
        elif _is_docstring(node) or _is_metadata(node):
            continue
        else:
            setup_nodes.append(node)
    if check is None or len(check.args.args) != 1:
        return None
    argument = check.args.args[0].arg
    asserts = []
    for statement in check.body:
        if _is_docstring(statement) or isinstance(statement, ast.Pass):
            continue
        if not isinstance(statement, ast.Assert):
            return None
        if isinstance(statement.test, ast.Constant):
            continue  # `assert True`: tests nothing
        asserts.append(ast.unparse(_Rename(argument, entry_point).visit(statement)))
    if not asserts:
        return None
    setup = "\n".join(ast.unparse(n) for n in setup_nodes)
    return (setup + "\n" if setup else ""), asserts


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _is_metadata(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["METADATA"]


class _Rename(ast.NodeTransformer):
    def __init__(self, old: str, new: str):
        self.old, self.new = old, new

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return ast.copy_location(ast.Name(self.new, node.ctx), node) if node.id == self.old else node
