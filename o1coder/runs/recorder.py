"""``StoreObserver``: the :class:`~o1coder.search.observer.SearchObserver` that records a search in the run store.

The search calls ``node_added`` / ``node_updated`` many times per rollout (expansion, rollout steps,
backpropagation along the path); each call only notes the node. ``rollout_finished`` writes the noted nodes in one
transaction, skipping nodes whose row has not changed since it was last written, so store time stays a small
share of search time (``seconds`` says how much) while a reader still sees the tree grow rollout by rollout.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from o1coder.runs.rows import node_row
from o1coder.runs.store import RunStore
from o1coder.search.tree import Node, Tree

log = logging.getLogger(__name__)


class StoreObserver:
    """Records the trees of one run, one problem at a time (the problem is the tree's ``problem_id``)."""

    def __init__(self, store: RunStore, run_id: str):
        self.store = store
        self.run_id = run_id
        self.seconds = 0.0  # time spent writing, for the overhead benchmark
        self.commits = 0
        self._problem: str | None = None
        self._pending: dict[int, Node] = {}
        self._written: dict[int, tuple] = {}  # node id -> the row last written (without its timestamp)
        self._config_written = False

    # --- SearchObserver -----------------------------------------------------------------------------------------

    def node_added(self, tree: Tree, node: Node) -> None:
        self._note(tree, node)

    def node_updated(self, tree: Tree, node: Node) -> None:
        self._note(tree, node)

    def rollout_finished(self, tree: Tree, rollout: int, stats: dict) -> None:
        start = time.perf_counter()
        self._switch(tree.problem_id)
        rows = self._changed_rows(self._pending.values())
        self._pending.clear()
        self.store.write_nodes(self.run_id, tree.problem_id, rows,
                               tree_config=None if self._config_written else tree.config,
                               rollouts=rollout + 1, live=stats)
        self._config_written = True
        self.commits += 1
        self.seconds += time.perf_counter() - start

    # --- the end of a problem -----------------------------------------------------------------------------------

    def finish(self, tree: Tree, result: dict[str, Any], metrics: dict[str, float] | None = None) -> dict[str, Any]:
        """Write the problem's result with every node not yet written as it is now, in one transaction.

        All of ``tree`` is compared (not only the nodes the search reported), so the stored tree equals the
        searched one even if a search forgot to report an update.
        """
        start = time.perf_counter()
        self._switch(tree.problem_id)
        rows = self._changed_rows(tree.nodes)
        totals = self.store.finish_problem(self.run_id, tree.problem_id, rows=rows, tree_config=tree.config,
                                           result=result, metrics=metrics)
        self._reset(None)
        self.commits += 1
        self.seconds += time.perf_counter() - start
        return totals

    # --- internals ----------------------------------------------------------------------------------------------

    def _note(self, tree: Tree, node: Node) -> None:
        if tree.problem_id != self._problem:
            self._switch(tree.problem_id)
        self._pending[node.id] = node

    def _switch(self, problem_id: str) -> None:
        if problem_id != self._problem:
            if self._pending:
                log.warning("search moved to %s with %d unwritten nodes of %s: they are written when that problem"
                            " finishes", problem_id, len(self._pending), self._problem)
            self._reset(problem_id)

    def _reset(self, problem_id: str | None) -> None:
        self._problem = problem_id
        self._pending = {}
        self._written = {}
        self._config_written = False

    def _changed_rows(self, nodes) -> list[tuple]:
        """Rows of the nodes that differ from what was last written, parents first (ids grow with depth)."""
        now = time.time()
        rows = []
        for node in sorted(nodes, key=lambda n: n.id):
            row = node_row(self.run_id, self._problem, node, now)
            key = row[:-1]
            if self._written.get(node.id) != key:
                self._written[node.id] = key
                rows.append(row)
        return rows
