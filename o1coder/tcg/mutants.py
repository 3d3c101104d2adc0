"""Mutants: small wrong versions of a reference solution, to measure how much a test set can catch.

Classic mutation operators applied with ``ast``, one change per mutant:

- ``arithmetic``: ``+ -> -``, ``- -> +``, ``* -> +``, ``/ -> *``, ``// -> /``, ``% -> //``, ``** -> *``, shifts
  and bit operators swapped (also in augmented assignments);
- ``constant``: an integer ``c`` becomes ``c + 1`` and ``c - 1``; ``True`` <-> ``False``;
- ``comparison``: ``< <-> <=``, ``> <-> >=``, ``== <-> !=``, ``in <-> not in``, ``is <-> is not``;
- ``off_by_one``: ``range`` bounds moved by one, an index ``x[i]`` read as ``x[i + 1]`` / ``x[i - 1]``, a slice's
  end moved by one;
- ``boolean``: ``and <-> or``, ``not x -> x``.

Every mutant differs from the reference's source (``ast.unparse`` of both) and compiles; duplicates are removed.
Some mutants are equivalent to the reference (no test can kill them): evaluation reports the ones the dataset's
own tests miss apart rather than pretending to know which are equivalent.
"""

from __future__ import annotations

import ast
import copy
import random
import warnings
from collections.abc import Callable
from dataclasses import dataclass

OPERATORS = ("arithmetic", "constant", "comparison", "off_by_one", "boolean")

_ARITHMETIC = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
               ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
               ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr}  # fmt: skip
_COMPARISON = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
               ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
_SYMBOL = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
           ast.LShift: "<<", ast.RShift: ">>", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.Lt: "<",
           ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=", ast.In: "in",
           ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.And: "and", ast.Or: "or"}  # fmt: skip


@dataclass(frozen=True)
class Mutant:
    """A mutated program: its source, the operator family, and what changed where."""

    code: str
    operator: str
    description: str
    line: int


@dataclass(frozen=True)
class _Site:
    index: int  # position of the node in ast.walk order (identical for a deep copy)
    line: int
    operator: str
    description: str
    replace: Callable[[ast.AST], ast.AST]  # node (in the copy) -> its replacement


def _shift(node: ast.expr, delta: int) -> ast.expr:
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=node, op=op, right=ast.Constant(abs(delta)))


def _sites(tree: ast.AST) -> list[_Site]:
    sites: list[_Site] = []
    for index, node in enumerate(ast.walk(tree)):
        line = getattr(node, "lineno", 0)

        def add(operator: str, what: str, replace: Callable[[ast.AST], ast.AST], index=index, line=line) -> None:
            sites.append(_Site(index, line, operator, f"line {line}: {what}", replace))

        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in _ARITHMETIC:
            new = _ARITHMETIC[type(node.op)]
            add("arithmetic", f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}",
                lambda n, new=new: _with(n, op=new()))
        elif isinstance(node, ast.Compare):
            for k, op in enumerate(node.ops):
                if type(op) in _COMPARISON:
                    new = _COMPARISON[type(op)]
                    add("comparison", f"{_SYMBOL[type(op)]} -> {_SYMBOL[new]}",
                        lambda n, k=k, new=new: _with(n, ops=[new() if j == k else o for j, o in enumerate(n.ops)]))
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            add("boolean", f"{_SYMBOL[type(node.op)]} -> {_SYMBOL[new]}", lambda n, new=new: _with(n, op=new()))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            add("boolean", "not x -> x", lambda n: n.operand)
        elif isinstance(node, ast.Constant):  # numbers and booleans only: strings (docstrings) stay
            if isinstance(node.value, bool):
                add("constant", f"{node.value} -> {not node.value}", lambda n: ast.Constant(not n.value))
            elif isinstance(node.value, int):
                for delta in (1, -1):
                    add("constant", f"{node.value} -> {node.value + delta}",
                        lambda n, d=delta: ast.Constant(n.value + d))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" \
                and 1 <= len(node.args) <= 3 and not node.keywords:
            stop = 0 if len(node.args) == 1 else 1
            for delta in (1, -1):
                add("off_by_one", f"range stop {delta:+d}", lambda n, s=stop, d=delta: _with(
                    n, args=[_shift(a, d) if j == s else a for j, a in enumerate(n.args)]))
            if len(node.args) >= 2:
                add("off_by_one", "range start +1",
                    lambda n: _with(n, args=[_shift(n.args[0], 1), *n.args[1:]]))
        elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
            if isinstance(node.slice, ast.Slice):
                if node.slice.upper is not None:
                    for delta in (1, -1):
                        add("off_by_one", f"slice end {delta:+d}", lambda n, d=delta: _with(
                            n, slice=_with(n.slice, upper=_shift(n.slice.upper, d))))
            elif not isinstance(node.slice, (ast.Constant, ast.Tuple)):  # constants: the constant operator does it
                for delta in (1, -1):
                    add("off_by_one", f"index {delta:+d}",
                        lambda n, d=delta: _with(n, slice=_shift(n.slice, d)))
    return sites


def _with(node: ast.AST, **fields) -> ast.AST:
    new = copy.copy(node)
    for name, value in fields.items():
        setattr(new, name, value)
    return new


def _apply(tree: ast.AST, site: _Site) -> str | None:
    mutated = copy.deepcopy(tree)
    nodes = list(ast.walk(mutated))
    target = nodes[site.index]
    replacement = site.replace(target)
    for parent in nodes:  # swap the target for its replacement in its parent's field
        for name, value in ast.iter_fields(parent):
            if value is target:
                setattr(parent, name, replacement)
                break
            if isinstance(value, list) and any(v is target for v in value):
                setattr(parent, name, [replacement if v is target else v for v in value])
                break
        else:
            continue
        break
    else:
        return None
    try:
        return ast.unparse(ast.fix_missing_locations(mutated))
    except (ValueError, TypeError, RecursionError):
        return None


def generate_mutants(code: str, max_mutants: int | None = 20, seed: int = 0) -> list[Mutant]:
    """Up to ``max_mutants`` distinct, compiling mutants of ``code`` (None: all of them), balanced over operators.

    The choice is seeded; an unparseable ``code`` has no mutants.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(code)
        original = ast.unparse(tree)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []
    rng = random.Random(f"{seed}:mutants")
    by_operator: dict[str, list[_Site]] = {op: [] for op in OPERATORS}
    for site in _sites(tree):
        by_operator[site.operator].append(site)
    for sites in by_operator.values():
        rng.shuffle(sites)
    order = [site for group in _round_robin(list(by_operator.values())) for site in group]
    mutants, seen = [], {original}
    for site in order:
        if max_mutants is not None and len(mutants) >= max_mutants:
            break
        source = _apply(tree, site)
        if source is None or source in seen or not _compiles(source):
            continue
        seen.add(source)
        mutants.append(Mutant(source, site.operator, site.description, site.line))
    return mutants


def _round_robin(groups: list[list[_Site]]):
    """One site from each operator in turn, so a long program's many constants do not crowd out the rest."""
    for k in range(max((len(g) for g in groups), default=0)):
        yield [g[k] for g in groups if k < len(g)]


def _compiles(source: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(source, "<mutant>", "exec")
        return True
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
