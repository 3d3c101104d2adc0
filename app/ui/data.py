"""Everything the pages read, through o1coder.runs only, cached so that live pages stay cheap.

- Small tables (the runs list, a run's problems) are cached for a couple of seconds: a live page re-reads them on
  every refresh and the database sees at most one read per ``LIVE_TTL`` whatever the number of open tabs.
- Bigger reads (results, metrics, every tree of a run) are keyed by the run's ``heartbeat`` (the time of its last
  commit), so they are read again only when the run has written something new.
- A tree that is being searched is followed incrementally: :class:`LiveTree` keeps the tree and the
  ``nodes_since`` cursor, and each refresh reads only the nodes written since. Figures are keyed by that cursor.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pandas as pd
import streamlit as st

from o1coder import paths, runs
from o1coder.search.tree import Tree
from o1coder.viz import tree_figure

LIVE_TTL = 2.0  # seconds
LIVE_REFRESH = 2.0  # seconds between refreshes of a page that shows a running run
LONG_TTL = 600


def runs_dir() -> str:
    """The runs directory the app reads ($O1CODER_RUNS_DIR, else data/runs), as a string cache key."""
    return str(Path(paths.runs_dir()).resolve())


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def list_runs(where: str) -> list[runs.RunInfo]:
    return runs.list_runs(where)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def get_run(where: str, run_id: str) -> runs.RunInfo:
    return runs.get_run(run_id, where)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def problems(where: str, run_id: str) -> pd.DataFrame:
    return runs.problems(run_id, where)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def node_counts(where: str, run_id: str) -> dict[str, int]:
    return runs.node_counts(run_id, where)


@st.cache_data(ttl=LONG_TTL, show_spinner=False)
def problem_results(where: str, run_id: str, version: float | None) -> pd.DataFrame:
    """``version``: the run's heartbeat; a new commit means a new cache entry."""
    return runs.problem_results(run_id, where)


@st.cache_data(ttl=LONG_TTL, show_spinner=False)
def metrics(where: str, run_id: str, version: float | None) -> pd.DataFrame:
    return runs.metrics(run_id, runs_dir=where)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def loop_metrics(where: str, run_id: str) -> pd.DataFrame:
    """A loop run's metrics, re-read every couple of seconds: a loop logs its points between its child runs'
    commits, so its own heartbeat is no sign that something new is there."""
    return runs.metrics(run_id, runs_dir=where)


@st.cache_data(ttl=LIVE_TTL, show_spinner=False)
def loop_children(where: str, run_id: str) -> dict[str, str]:
    """child run id -> the loop stage that wrote it ({} when the loop's state file is not there)."""
    from o1coder.runs.loop_state import LoopState

    try:
        state = LoopState.load(run_id, where)
    except (FileNotFoundError, ValueError):
        return {}
    children = {child: stage for stage, child in state.runs.items()}
    for stage, values in state.metrics.items():  # evaluations by o1coder.evaluation record their run here
        if isinstance(values.get("run"), str):
            children.setdefault(values["run"], stage)
    return children


def nested_runs(where: str, listed: list[runs.RunInfo]) -> list[tuple[runs.RunInfo, str | None]]:
    """The runs in listing order, each loop followed by its child runs in the order the loop made them:
    (run, the loop stage that made it, None for a top-level run)."""
    by_id = {r.id: r for r in listed}
    children = {r.id: loop_children(where, r.id) for r in listed if r.kind == "loop"}
    nested = {child for kids in children.values() for child in kids}
    ordered: list[tuple[runs.RunInfo, str | None]] = []
    for run in listed:
        if run.id in nested and run.id not in children:
            continue
        ordered.append((run, None))
        kids = [by_id[child] for child in children.get(run.id, {}) if child in by_id]
        ordered += [(kid, children[run.id][kid.id]) for kid in sorted(kids, key=lambda r: (r.created, r.id))]
    return ordered


@st.cache_data(ttl=LONG_TTL, show_spinner=False, max_entries=8)
def run_trees(where: str, run_id: str, version: float | None) -> list[Tree]:
    """Every tree of the run that has nodes, in problem order."""
    counts = runs.node_counts(run_id, where)
    order = runs.problems(run_id, where)["problem_id"]
    return [runs.load_tree(run_id, pid, where) for pid in order if counts.get(pid)]


@st.cache_data(ttl=LONG_TTL, show_spinner=False)
def problem_statements(spec: str | None) -> dict[str, str]:
    """problem id -> statement, when the run's problem spec can be read cheaply and offline (else {})."""
    if not spec:
        return {}
    name, _, path = spec.partition(":")
    offline = name in ("bundled", "synthetic")  # our own problems, or the generated world (seconds for thousands)
    if not offline and (not path or name in ("mbppplus", "humanevalplus") or not Path(path).is_file()):
        return {}  # the hub, or a loader that needs the sandbox: not worth it for a caption
    try:
        from o1coder.bundled import resolve_problem_spec

        return {p.id: p.prompt for p in resolve_problem_spec(spec)}
    except Exception:
        return {}


class LiveTree:
    """One problem's tree, kept up to date with ``nodes_since``: each refresh reads only what changed."""

    def __init__(self, where: str, run_id: str, problem_id: str):
        self.where, self.run_id, self.problem_id = where, run_id, problem_id
        self.tree = Tree(problem_id=problem_id)
        self.cursor = 0
        self.reads = 0  # nodes read so far, over all refreshes (tests check the reads are incremental)
        self._lock = threading.Lock()

    def refresh(self) -> tuple[Tree, int]:
        """(a snapshot of the tree as stored now, the cursor it corresponds to)."""
        with self._lock:
            return self.refresh_locked()

    def refresh_locked(self) -> tuple[Tree, int]:
        changes = runs.nodes_since(self.run_id, self.problem_id, self.cursor, self.where)
        if changes.nodes:
            incremental = self.cursor > 0
            changes.apply(self.tree)
            self.reads += len(changes.nodes)
            # a resumed run searches an unfinished problem again from scratch, deleting its old nodes
            if incremental and runs.node_counts(self.run_id, self.where).get(self.problem_id, 0) < len(self.tree.nodes):
                self.tree, self.cursor = Tree(self.problem_id), 0
                return self.refresh_locked()
        self.cursor = changes.cursor
        return Tree(self.problem_id, self.tree.config, list(self.tree.nodes)), self.cursor


@st.cache_resource(max_entries=32, show_spinner=False)
def live_tree(where: str, run_id: str, problem_id: str) -> LiveTree:
    return LiveTree(where, run_id, problem_id)


@st.cache_resource(max_entries=64, show_spinner=False)
def tree_figure_for(where: str, run_id: str, problem_id: str, cursor: int, upto: int | None, selected: int | None,
                    best: int | None, _tree: Tree):
    """The tree figure, built once per (tree state, replay position, selection). Not mutated by its readers."""
    return tree_figure(_tree, upto=upto, selected=selected, best=best)


def clear_caches() -> None:
    """Forget every cached read (the Refresh button; tests)."""
    st.cache_data.clear()
    st.cache_resource.clear()
