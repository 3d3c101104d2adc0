"""Python source text for plain data, for the few tests that must be written as assertions.

Most tests are ``TestCase.call`` and carry values as data. A handful of oracles cannot be a plain equality (evalplus'
set-equality and "matched or not" tasks, TACO's class-based problems), so they become assertion source text; this
writes the arguments and expected values into that text. ``repr`` is right for every plain type except non-finite
floats (``inf`` and ``nan`` are not Python literals), which is all this module adds.
"""

from __future__ import annotations

import math


def python_literal(value) -> str:
    """Source text that evaluates to ``value`` (a plain value: see o1coder.execution.plain)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({repr(value)!r})"
    if isinstance(value, complex) and not (math.isfinite(value.real) and math.isfinite(value.imag)):
        return f"complex({python_literal(value.real)}, {python_literal(value.imag)})"
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        items = [python_literal(v) for v in value]
        return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_literal(k)}: {python_literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (set, frozenset)):
        # sorted source text: set order follows string hashing, which changes from one process to the next
        inner = ", ".join(sorted(python_literal(v) for v in value))
        if isinstance(value, frozenset):
            return f"frozenset({{{inner}}})" if value else "frozenset()"
        return f"{{{inner}}}" if value else "set()"
    return repr(value)


def call_source(fn: str, args) -> str:
    """``fn(arg1, arg2, ...)`` as source text."""
    return f"{fn}({', '.join(python_literal(a) for a in args)})"
