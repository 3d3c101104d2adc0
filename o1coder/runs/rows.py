"""Search-tree nodes as rows of the ``nodes`` table, and back, without losing a field.

Every :class:`~o1coder.search.tree.Node` field has a column (dicts and lists as JSON); a field added to ``Node``
after this schema lands in the ``extra`` JSON column, so the store keeps up with the search without a migration.
``value_sum`` is stored exactly (a REAL is a double), so ``load_tree(...).to_dict()`` equals the searched tree's.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from o1coder.search.tree import Node

# Node field -> how it is stored ("json" for dicts and lists).
NODE_FIELDS = {
    "id": "node_id", "parent": "parent", "depth": "depth", "action": "action", "text": "text", "visits": "visits",
    "value_sum": "value_sum", "reward": "reward", "exec": "exec", "created": "created", "prm": "prm", "dead": "dead",
    "errors": "errors", "uct": "uct", "prior": "prior", "logprob": "logprob", "tokens": "tokens",
}  # fmt: skip
JSON_FIELDS = ("exec", "errors", "uct")
_DERIVED = ("children",)  # rebuilt from parents when a tree is loaded

COLUMNS = ("run_id", "problem_id", *NODE_FIELDS.values(), "value", "extra", "updated")
UPSERT = (f"INSERT OR REPLACE INTO nodes ({', '.join(COLUMNS)}) "  # REPLACE gives the row a new seq: readers see it
          f"VALUES ({', '.join('?' * len(COLUMNS))})")


def _extra_fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Node) if f.name not in NODE_FIELDS and f.name not in _DERIVED)


EXTRA_FIELDS = _extra_fields()


def _dumps(value: Any) -> str | None:
    return None if value is None else json.dumps(value, separators=(",", ":"), default=_jsonable)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return repr(value)


def node_row(run_id: str, problem_id: str, node: Node, now: float) -> tuple:
    """The values of :data:`COLUMNS` for one node (``updated`` = ``now``)."""
    values = []
    for name in NODE_FIELDS:
        value = getattr(node, name)
        if name in JSON_FIELDS:
            value = _dumps(value)
        elif name == "dead":
            value = int(bool(value))
        values.append(value)
    extra = {name: getattr(node, name) for name in EXTRA_FIELDS if getattr(node, name) is not None}
    return (run_id, problem_id, *values, node.value, _dumps(extra) if extra else None, now)


def row_node(row: Mapping[str, Any]) -> Node:
    """A :class:`Node` from a ``nodes`` row (a ``sqlite3.Row`` or a dict); ``children`` stays empty."""
    kwargs = {}
    for name, column in NODE_FIELDS.items():
        value = row[column]
        if name in JSON_FIELDS and value is not None:
            value = json.loads(value)
        elif name == "dead":
            value = bool(value)
        kwargs[name] = value
    node = Node(**kwargs)
    if row["extra"]:
        for name, value in json.loads(row["extra"]).items():
            setattr(node, name, value)
    return node
