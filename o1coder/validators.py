"""Checks for recipe values, shared by every config dataclass's ``__post_init__``.

A recipe mistake is a ValueError that names the key, the form expected and the value given, e.g.
``PRMConfig.batch_size must be an integer >= 1; got 0``: the CLI prints it as is, so the message is the fix.
Each check takes ``where`` (the config's name as its messages show it: "PRMConfig", "training", ...), the key and
the value, and returns the value (normalised where that helps: numbers as float, mappings as dict).

    integer("PRMConfig", "batch_size", self.batch_size, minimum=1)
    self.alpha = number("SearchConfig", "alpha", self.alpha, low=0, high=1)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any


def fail(where: str, name: str, expected: str, value: object) -> None:
    """Raise the ValueError every check raises: ``<where>.<name> must be <expected>; got <value>``."""
    raise ValueError(f"{where}.{name} must be {expected}; got {value!r}")


def integer(where: str, name: str, value: object, minimum: int = 0, optional: bool = False) -> int | None:
    """An int (not a bool) >= ``minimum``; None too when ``optional``."""
    if optional and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        fail(where, name, f"an integer >= {minimum}{' or null' if optional else ''}", value)
    return value


def number(where: str, name: str, value: object, low: float | None = None, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False, optional: bool = False) -> float | None:
    """An int or float (not a bool) in the interval ``low .. high`` (either end may be open or absent), as float."""
    if optional and value is None:
        return None
    inside = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if inside and low is not None:
        inside = value > low if low_open else value >= low
    if inside and high is not None:
        inside = value < high if high_open else value <= high
    if not inside:
        fail(where, name, _interval(low, high, low_open, high_open) + (" or null" if optional else ""), value)
    return float(value)  # type: ignore[arg-type]


def boolean(where: str, name: str, value: object) -> bool:
    if not isinstance(value, bool):
        fail(where, name, "true or false", value)
    return value  # type: ignore[return-value]


def choice(where: str, name: str, value: object, allowed: Iterable[Any]) -> Any:
    allowed = tuple(allowed)
    if value not in allowed:
        fail(where, name, "one of " + ", ".join(map(repr, allowed)), value)
    return value


def mapping(where: str, name: str, value: object, expected: str = "a mapping of keyword arguments") -> dict:
    """A mapping, returned as a plain dict (YAML gives dicts; a caller's Mapping is copied, never shared)."""
    if not isinstance(value, Mapping):
        fail(where, name, expected, value)
    return dict(value)  # type: ignore[arg-type]


def module_names(where: str, name: str, value: object) -> Any:
    """LoRA targets: a non-empty string (e.g. 'all-linear') or a non-empty list of non-empty module names."""
    if not (isinstance(value, str) and value) and not (
        isinstance(value, list) and value and all(isinstance(v, str) and v for v in value)
    ):
        fail(where, name, "'all-linear' or a non-empty list of module names", value)
    return value


def _interval(low, high, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"a number in {'(' if low_open else '['}{_num(low)}, {_num(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"a number {'>' if low_open else '>='} {_num(low)}"
    if high is not None:
        return f"a number {'<' if high_open else '<='} {_num(high)}"
    return "a number"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
