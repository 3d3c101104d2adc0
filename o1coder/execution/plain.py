"""Plain data: the only values that cross the sandbox boundary.

A candidate's return value is turned into a tree of builtin types (int, float, str, bytes, bool, None, complex,
list, tuple, dict, set, frozenset) by reading it through the *base* type's own methods, so an object that overrides
``__eq__``, ``__iter__`` or ``__bool__`` cannot steer the comparison: it either becomes an honest plain copy or is
rejected as unrepresentable. The tagged JSON form is what travels between processes and what our own files store
(JSON alone cannot tell a tuple from a list or hold ``inf``).

This module is imported by the sandbox worker as a top-level module, so it must stay stdlib-only.
"""

from __future__ import annotations

import base64
import math

MAX_DEPTH = 200
MAX_NODES = 1_000_000

_TAG = "__t"


class Unrepresentable(ValueError):
    """The value is not plain data (a custom object, a cycle, or too large)."""


def to_plain(obj, *, _depth: int = 0, _budget: list | None = None):
    """Return a plain copy of ``obj`` built only from builtin types, or raise Unrepresentable.

    Subclasses of builtin types (defaultdict, Counter, namedtuple, IntEnum...) are copied through the base type's C
    methods, which ignore Python-level overrides.
    """
    budget = _budget if _budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        raise Unrepresentable(f"value has more than {MAX_NODES} parts")
    if _depth > MAX_DEPTH:
        raise Unrepresentable(f"value is nested deeper than {MAX_DEPTH} levels (or contains itself)")
    if obj is None or obj is True or obj is False:
        return obj
    t = type(obj)
    d = _depth + 1
    # bool subclasses cannot exist, so an int subclass is a real int subclass (IntEnum, a hostile int...)
    if isinstance(obj, bool):
        return bool.__bool__(obj)
    if isinstance(obj, int):
        return int.__index__(obj)
    if isinstance(obj, float):
        return float.__float__(obj)
    if isinstance(obj, complex):
        return complex(complex.__getattribute__(obj, "real"), complex.__getattribute__(obj, "imag"))
    if isinstance(obj, str):
        return str.__str__(obj)
    if isinstance(obj, (bytes, bytearray)):
        return bytes(bytes.__bytes__(obj)) if isinstance(obj, bytes) else bytes(bytearray.__iter__(obj))
    if isinstance(obj, list):
        return [to_plain(x, _depth=d, _budget=budget) for x in list.__iter__(obj)]
    if isinstance(obj, tuple):
        return tuple(to_plain(x, _depth=d, _budget=budget) for x in tuple.__iter__(obj))
    if isinstance(obj, dict):
        out = {}
        for k, v in dict.items(obj):
            out[to_plain(k, _depth=d, _budget=budget)] = to_plain(v, _depth=d, _budget=budget)
        return out
    if isinstance(obj, frozenset):
        return frozenset(to_plain(x, _depth=d, _budget=budget) for x in frozenset.__iter__(obj))
    if isinstance(obj, set):
        return {to_plain(x, _depth=d, _budget=budget) for x in set.__iter__(obj)}
    if isinstance(obj, range):
        return range(obj.start, obj.stop, obj.step)
    if not _defines_truth(t):
        # e.g. re.Match: no value to compare, but Python calls it truthy; keep just that (equal only to itself)
        return Opaque(f"{t.__module__}.{t.__qualname__}")
    raise Unrepresentable(f"a {t.__module__}.{t.__qualname__} object is not plain data")


def _defines_truth(t: type) -> bool:
    return any(("__bool__" in vars(k) or "__len__" in vars(k)) for k in t.__mro__ if k is not object)


class Opaque:
    """An object with no plain value, standing in for e.g. a ``re.Match``: truthy, equal to nothing but itself."""

    __slots__ = ("type_name",)

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"

    def __bool__(self) -> bool:
        return True

    def __eq__(self, other) -> bool:
        return self is other

    __hash__ = object.__hash__


def encode(value):
    """Plain value -> JSON-compatible tree (tags for tuple, set, bytes, non-finite floats, non-string keys)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {_TAG: "float", "v": repr(value)}
    if isinstance(value, list):
        return [encode(x) for x in value]
    if isinstance(value, tuple):
        return {_TAG: "tuple", "v": [encode(x) for x in value]}
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value) and _TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {_TAG: "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, frozenset):
        return {_TAG: "frozenset", "v": [encode(x) for x in value]}
    if isinstance(value, set):
        return {_TAG: "set", "v": [encode(x) for x in value]}
    if isinstance(value, bytes):
        return {_TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
    if isinstance(value, complex):
        return {_TAG: "complex", "v": [encode(value.real), encode(value.imag)]}
    if isinstance(value, range):
        return {_TAG: "range", "v": [value.start, value.stop, value.step]}
    if isinstance(value, Opaque):
        return {_TAG: "opaque", "v": value.type_name}
    raise Unrepresentable(f"cannot encode {type(value).__name__}")


def decode(tree):
    """Inverse of :func:`encode`."""
    if isinstance(tree, list):
        return [decode(x) for x in tree]
    if isinstance(tree, dict):
        tag = tree.get(_TAG)
        if tag is None:
            return {k: decode(v) for k, v in tree.items()}
        v = tree.get("v")
        if tag == "tuple":
            return tuple(decode(x) for x in v)
        if tag == "dict":
            return {_hashable(decode(k)): decode(x) for k, x in v}
        if tag == "set":
            return {_hashable(decode(x)) for x in v}
        if tag == "frozenset":
            return frozenset(_hashable(decode(x)) for x in v)
        if tag == "float":
            return float(v)
        if tag == "bytes":
            return base64.b64decode(v)
        if tag == "complex":
            return complex(decode(v[0]), decode(v[1]))
        if tag == "range":
            return range(*v)
        if tag == "opaque":
            return Opaque(str(v))
        raise ValueError(f"unknown plain-data tag {tag!r}")
    return tree


def _hashable(x):
    # JSON round trips never produce lists inside sets or keys, but be forgiving with hand-written files.
    return tuple(_hashable(i) for i in x) if isinstance(x, list) else x


def short_repr(value, limit: int = 200) -> str:
    """repr() cut to ``limit`` characters, for messages."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def equal(actual, expected, atol: float = 0.0) -> bool:
    """Compare two plain values. Both are builtin types, so ``==`` here runs no candidate code.

    With ``atol > 0`` floats compare within ``atol`` (evalplus semantics), recursively through containers.
    """
    if atol <= 0 or actual == expected:
        try:
            return bool(actual == expected)
        except Exception:  # noqa: BLE001 - e.g. comparing incomparable builtins never raises, but stay total
            return False
    if isinstance(expected, float) or isinstance(actual, float):
        if isinstance(actual, bool) or isinstance(expected, bool):
            return actual == expected
        if not isinstance(actual, (int, float)) or not isinstance(expected, (int, float)):
            return False
        if math.isnan(expected) and math.isnan(actual):
            return True
        return abs(actual - expected) <= atol
    if isinstance(expected, (list, tuple)) and isinstance(actual, (list, tuple)):
        if type(actual) is not type(expected) or len(actual) != len(expected):
            return False
        return all(equal(a, e, atol) for a, e in zip(actual, expected))
    if isinstance(expected, dict) and isinstance(actual, dict):
        if actual.keys() != expected.keys():
            return False
        return all(equal(actual[k], expected[k], atol) for k in expected)
    return actual == expected
