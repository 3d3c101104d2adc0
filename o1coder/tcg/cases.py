"""The test-case block the TCG writes, and its tolerant parser.

One case is an input and the output the code gives for it, each between tags::

    <input>
    [2, 3]
    </input>
    <output>
    5
    </output>

For a function (call-based) problem the input is a Python list of the positional arguments and the output is the
returned value as a Python literal; for a stdin/stdout problem both are the raw text. Tags were chosen over
Markdown fences because a stdin text can hold anything a fence can, while ``</input>`` almost never appears in one.

The parser never raises: generated text is hostile (truncated blocks, swapped tags, unbalanced brackets, literals
that would take gigabytes). Whatever does not make a case is dropped and counted by reason in :class:`ParsedCases`.
"""

from __future__ import annotations

import ast
import math
import re
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from o1coder.loaders._literal import python_literal

_TAG = re.compile(r"<\s*(/?)\s*(input|output)\s*>", re.IGNORECASE)
_SEQUENCE = ((False, "input"), (True, "input"), (False, "output"), (True, "output"))
_MAX_LITERAL_DEPTH = 50
_SAFE_CALLS = {"float", "complex", "set", "frozenset", "tuple", "list", "dict"}


@dataclass(frozen=True)
class Case:
    """One test case, independent of how the code is called (see :mod:`o1coder.tcg.convert`).

    ``input``: a tuple of positional arguments (call-based) or the stdin text. ``output``: the expected return
    value (call-based) or the expected stdout text.
    """

    input: Any
    output: Any
    stdio: bool = False


@dataclass
class ParsedCases:
    """What a generated answer held: the cases that parsed, and how many blocks were dropped and why."""

    cases: list[Case] = field(default_factory=list)
    dropped: int = 0
    reasons: Counter = field(default_factory=Counter)

    def drop(self, reason: str) -> None:
        self.dropped += 1
        self.reasons[reason] += 1


def render_case(case: Case) -> str:
    """The block for one case. Raises ValueError when the text cannot be written unambiguously."""
    if case.stdio:
        if not isinstance(case.input, str) or not isinstance(case.output, str):
            raise ValueError("a stdin/stdout case needs input and output texts")
        given, expected = case.input.rstrip("\r\n"), case.output.rstrip("\r\n")
    else:
        given, expected = python_literal(list(case.input)), python_literal(case.output)
    if _TAG.search(given) or _TAG.search(expected):
        raise ValueError("the case text itself contains an <input>/<output> tag")
    return f"<input>\n{given}\n</input>\n<output>\n{expected}\n</output>"


def render_cases(cases: list[Case]) -> str:
    """The answer the TCG is trained to write: the cases' blocks separated by blank lines."""
    return "\n\n".join(render_case(case) for case in cases)


def parse_cases(text: str, *, stdio: bool, max_cases: int = 10, max_field_chars: int = 4000) -> ParsedCases:
    """The cases in a generated answer; malformed blocks, duplicates and cases beyond ``max_cases`` are dropped.

    Tolerant where it costs nothing (tag case and spacing, text between blocks, a missing trailing newline),
    strict where a guess could be wrong (an input must be followed by exactly one output).
    """
    result = ParsedCases()
    if not isinstance(text, str):
        result.drop("not_text")
        return result
    tags = [(m.start(), m.end(), m.group(1) == "/", m.group(2).lower()) for m in _TAG.finditer(text)]
    seen: set[str] = set()
    i = 0
    while i < len(tags):
        window = tags[i : i + 4]
        if tuple((closing, name) for _, _, closing, name in window) != _SEQUENCE:
            if tags[i][2] is False and tags[i][3] == "input":  # an input block that never became a case
                result.drop("malformed_block")
            i += 1
            continue
        given = text[window[0][1] : window[1][0]]
        expected = text[window[2][1] : window[3][0]]
        i += 4
        if len(given) > max_field_chars or len(expected) > max_field_chars:
            result.drop("too_long")
            continue
        case, reason = _case_from_text(given, expected, stdio)
        if case is None:
            result.drop(reason)
            continue
        key = repr((case.input, case.output)) if not stdio else given.strip() + "\0" + expected.strip()
        if key in seen:
            result.drop("duplicate")
            continue
        if len(result.cases) >= max_cases:
            result.drop("too_many")
            continue
        seen.add(key)
        result.cases.append(case)
    return result


def _case_from_text(given: str, expected: str, stdio: bool) -> tuple[Case | None, str]:
    if stdio:
        return Case(_block_text(given), _block_text(expected), stdio=True), ""
    try:
        args = parse_literal(given)
    except ValueError:
        return None, "bad_input_literal"
    if not isinstance(args, (list, tuple)):
        return None, "input_not_a_list"
    try:
        value = parse_literal(expected)
    except ValueError:
        return None, "bad_output_literal"
    return Case(tuple(args), value), ""


def _block_text(raw: str) -> str:
    """Text between tags: the newline after the opening tag and the blank end are layout, not content."""
    text = raw.removeprefix("\r\n") if raw.startswith("\r\n") else raw.removeprefix("\n")
    text = text.rstrip()
    return text + "\n" if text else ""


def parse_literal(text: str) -> Any:
    """A Python literal (plus ``float('inf')``, ``frozenset({...})``, ``set()``...) from text, or ValueError.

    Only literals are evaluated (``ast.literal_eval`` after rewriting the few constructor calls the writer emits),
    so no generated text ever runs. Deep nesting, huge numbers and other resource traps become ValueError.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError("empty literal")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as error:
        raise ValueError(f"not a Python literal ({type(error).__name__})") from None
    return literal_value(tree.body)


def literal_value(node: ast.expr) -> Any:
    """The value of a parsed literal expression (see :func:`parse_literal`), or ValueError. Consumes ``node``."""
    try:
        if _depth(node) > _MAX_LITERAL_DEPTH:
            raise ValueError("literal nested too deeply")
        return ast.literal_eval(_SafeCalls().visit(node))
    except ValueError:
        raise
    except (SyntaxError, TypeError, MemoryError, RecursionError, OverflowError, AttributeError) as error:
        raise ValueError(f"not a Python literal ({type(error).__name__})") from None


def _depth(node: ast.AST, limit: int = _MAX_LITERAL_DEPTH + 1) -> int:
    """Nesting depth, iteratively (the parser itself is recursive and would overflow first on hostile input)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


class _SafeCalls(ast.NodeTransformer):
    """Replace ``float('inf')``, ``frozenset([1])``, ``set()`` and friends by the constant they denote."""

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if not (isinstance(node.func, ast.Name) and node.func.id in _SAFE_CALLS) or node.keywords:
            raise ValueError("only literals are allowed")
        args = [ast.literal_eval(a) for a in node.args]
        name = node.func.id
        if len(args) > 2 or (args and name not in ("complex",) and len(args) != 1):
            raise ValueError(f"{name}() with {len(args)} arguments is not a literal")
        if name == "float":
            if args and not (isinstance(args[0], str) and args[0].strip().lower().lstrip("+-") in ("inf", "nan",
                                                                                              "infinity")):
                raise ValueError("float() is only accepted for inf and nan")
            value = float(args[0]) if args else 0.0
        elif name == "complex":
            if not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args):
                raise ValueError("complex() needs numbers")
            value = complex(*args)
        else:
            if args and not isinstance(args[0], (list, tuple, set, frozenset, dict)):
                raise ValueError(f"{name}() needs a container literal")
            value = {"set": set, "frozenset": frozenset, "tuple": tuple, "list": list, "dict": dict}[name](*args)
        return ast.copy_location(ast.Constant(value), node)


def same_output(a: Case, b: Case) -> bool:
    """Whether two cases expect outputs the sandbox would judge equal (used to build DPO rejections)."""
    from o1coder.execution import plain
    from o1coder.execution.judge import outputs_match

    if a.stdio:
        return outputs_match(a.output, b.output)
    if isinstance(a.output, float) and isinstance(b.output, float) and math.isnan(a.output) and math.isnan(b.output):
        return True
    return plain.equal(a.output, b.output)
