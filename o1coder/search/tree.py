"""Search trees: the nodes MCTS creates, their statistics, and the versioned JSON every tool reads.

The JSON (written by ``o1coder export``, read by the app, notebooks and outside tools), one object per problem::

    {"schema_version": 2, "problem_id": "mbpp/11", "config": {...},
     "nodes": [{"id": 0, "parent": null, "depth": 0, "action": null, "text": "", "visits": 12, "value": 0.41,
                "reward": null, "exec": null, "prm": null, "created": 0, ...}, ...]}

``action`` is 1 (structure), 2 (refine), 3 (code) or null for the root; ``text`` is the step as rendered by
:func:`o1coder.reasoning.render` (the root's text is empty: the problem is in the tree's ``problem_id``);
``value`` is Q/N; ``reward`` is set on terminal nodes only; ``exec`` on code nodes holds the sandbox verdict
(``status``, ``n_passed``, ``n_tests``; plus ``compiled``, ``pass_rate`` and per-test ``outcomes`` with short messages,
so viewers never recompute); ``created`` is the order of creation. Optional keys: ``prm`` (a PRM score), ``dead``
(the step could not be parsed: ``errors`` says why), ``uct`` (the terms at the node's last selection: ``q``,
``explore``, ``score``), ``prior`` (PUCT), ``logprob`` (log-probability of the step under the policy, the sum over
its tokens), ``tokens`` (tokens generated for it), ``expanded`` (its k next steps were sampled), ``expansions``
(how many times k next steps were sampled from it: more than 1 when every child was dead or settled and the node
was re-expanded), ``exhausted`` (no child is left to learn from and no re-expansion is left: MCTS never selects it
again), ``duplicates`` (further samples that rendered to the same step and were merged into this node).

Version 2 added ``expansions`` and ``exhausted``; version 1 files read the same (both absent).

Besides code steps, two kinds of leaf carry a ``reward`` of 0: dead steps, and steps at the depth limit that are not
code (a path that ran out of depth without an answer).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

SCHEMA_VERSION = 2

_OPTIONAL = ("prm", "dead", "errors", "uct", "prior", "logprob", "tokens", "expanded", "expansions", "exhausted",
             "duplicates")


@dataclass
class Node:
    """One state of the search: the problem plus the steps on the path from the root to this node."""

    id: int
    parent: int | None
    depth: int
    action: int | None  # 1 structure, 2 refine, 3 code; None for the root
    text: str = ""
    visits: int = 0
    value_sum: float = 0.0
    reward: float | None = None  # terminal nodes only
    exec: dict | None = None  # code nodes: the sandbox verdict summary (+ compiled, pass_rate, outcomes)
    created: int = 0
    children: list[int] = field(default_factory=list)
    prm: float | None = None
    dead: bool = False  # a step that could not be parsed: a dead child with reward 0
    errors: list[str] | None = None
    uct: dict | None = None  # {"q", "explore", "score"} at the last selection
    prior: float | None = None
    logprob: float | None = None
    tokens: int | None = None
    expanded: bool = False  # its k next steps were sampled (selection may descend into it)
    expansions: int = 0  # times k next steps were sampled from it (re-expanded when no child was left to select)
    exhausted: bool = False  # nothing left to learn below it: never selected again
    duplicates: int = 0  # further samples merged into this node because they rendered to the same text

    @property
    def value(self) -> float:
        """Q/N, the step's value (0 before the first visit)."""
        return self.value_sum / self.visits if self.visits else 0.0

    @property
    def is_terminal(self) -> bool:
        return self.action == 3 or self.dead

    def to_dict(self) -> dict:
        d = {"id": self.id, "parent": self.parent, "depth": self.depth, "action": self.action, "text": self.text,
             "visits": self.visits, "value": self.value, "reward": self.reward, "exec": self.exec,
             "prm": self.prm, "created": self.created}
        for key in _OPTIONAL:
            value = getattr(self, key)
            if value not in (None, False) and key != "prm":
                d[key] = value
        return d

    @classmethod
    def from_dict(cls, d: dict) -> Node:
        visits = int(d.get("visits", 0))
        node = cls(id=int(d["id"]), parent=d.get("parent"), depth=int(d.get("depth", 0)), action=d.get("action"),
                   text=d.get("text", ""), visits=visits, value_sum=float(d.get("value", 0.0)) * visits,
                   reward=d.get("reward"), exec=d.get("exec"), created=int(d.get("created", d["id"])))
        for key in _OPTIONAL:
            if key in d:
                setattr(node, key, d[key])
        return node


@dataclass
class Tree:
    """All nodes of one problem's search, indexed by id (ids are dense: ``nodes[i].id == i``)."""

    problem_id: str
    config: dict = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)

    @property
    def root(self) -> Node:
        return self.nodes[0]

    def add(self, parent: int | None, action: int | None, text: str, **extra) -> Node:
        """Create a node under ``parent`` (None for the root) and return it."""
        depth = 0 if parent is None else self.nodes[parent].depth + 1
        node = Node(id=len(self.nodes), parent=parent, depth=depth, action=action, text=text,
                    created=len(self.nodes), **extra)
        self.nodes.append(node)
        if parent is not None:
            self.nodes[parent].children.append(node.id)
        return node

    def path(self, node_id: int) -> list[Node]:
        """Root ... node."""
        out = []
        current: int | None = node_id
        while current is not None:
            out.append(self.nodes[current])
            current = self.nodes[current].parent
        return out[::-1]

    def terminals(self) -> list[Node]:
        return [n for n in self.nodes if n.action == 3 and not n.dead]

    def to_dict(self) -> dict:
        return {"schema_version": SCHEMA_VERSION, "problem_id": self.problem_id, "config": self.config,
                "nodes": [n.to_dict() for n in self.nodes]}

    @classmethod
    def from_dict(cls, d: dict) -> Tree:
        version = d.get("schema_version", 1)
        if version > SCHEMA_VERSION:
            raise ValueError(f"tree schema version {version} is newer than this o1coder reads ({SCHEMA_VERSION}): "
                             "upgrade o1coder")
        tree = cls(problem_id=d["problem_id"], config=d.get("config", {}),
                   nodes=[Node.from_dict(n) for n in sorted(d["nodes"], key=lambda n: n["id"])])
        for node in tree.nodes:
            if node.parent is not None:
                tree.nodes[node.parent].children.append(node.id)
        return tree

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> Tree:
        return cls.from_dict(json.loads(Path(path).read_text()))
