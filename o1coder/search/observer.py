"""How a search reports what it does, so a run store (or a notebook) can follow it live.

The search never imports the run store: it calls an observer. ``node_added`` and ``node_updated`` may be called
many times per rollout; an observer that writes to disk batches them and writes on ``rollout_finished`` (one
transaction per rollout keeps store writes a small share of search time).
"""

from __future__ import annotations

from typing import Protocol

from o1coder.search.tree import Node, Tree


class SearchObserver(Protocol):
    def node_added(self, tree: Tree, node: Node) -> None: ...

    def node_updated(self, tree: Tree, node: Node) -> None: ...

    def rollout_finished(self, tree: Tree, rollout: int, stats: dict) -> None: ...


class NullObserver:
    """Follows nothing: the default."""

    def node_added(self, tree: Tree, node: Node) -> None:
        pass

    def node_updated(self, tree: Tree, node: Node) -> None:
        pass

    def rollout_finished(self, tree: Tree, rollout: int, stats: dict) -> None:
        pass
