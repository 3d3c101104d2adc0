"""The reader side of the run store: plain functions for the app, notebooks and ``o1coder runs``.

Each call opens its own read-only connection (``mode=ro``) and closes it when done, so readers never block the
process writing a run and always see its last committed rollout. Every function takes ``runs_dir`` (default: the
runs directory of :func:`o1coder.paths.runs_dir`) and accepts ``"latest"`` for the newest run.

    runs = list_runs()                          # [RunInfo, ...], newest first
    tree = load_tree("latest", "bundled/add")   # a search Tree, as far as it has grown
    changes = nodes_since(run, problem, 0)      # then nodes_since(run, problem, changes.cursor), ...
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o1coder.runs import db
from o1coder.runs.provenance import writer_alive
from o1coder.runs.rows import row_node
from o1coder.search.tree import Node, Tree

if TYPE_CHECKING:
    import pandas as pd

LATEST = "latest"


@dataclass
class RunInfo:
    """One row of the ``runs`` table, JSON columns decoded."""

    id: str
    status: str
    created: float
    kind: str
    recipe: str | None
    config: dict
    problem_spec: str | None
    problem_limit: int | None
    versions: dict
    seed: int | None
    data_hash: str | None
    problems_planned: int
    problems_done: int
    problems_passed: int
    pass_rate: float | None
    prompt_tokens: int
    completion_tokens: int
    executions: int
    duration: float
    heartbeat: float | None
    ended: float | None
    error: str | None
    host: str | None
    pid: int | None
    sessions: int

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def stale(self) -> bool:
        """Marked running, but its process is gone (same host) or silent for long (another host): resume it."""
        return self.status == "running" and not writer_alive(self.host, self.pid, self.heartbeat)

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "tokens": self.tokens, "stale": self.stale}


@dataclass
class NodeChanges:
    """Nodes inserted or updated after a cursor, parents before children; pass ``cursor`` to the next call."""

    nodes: list[Node] = field(default_factory=list)
    cursor: int = 0

    def apply(self, tree: Tree) -> Tree:
        """Bring ``tree`` (e.g. an empty ``Tree(problem_id)``) up to date with these changes, in place."""
        for node in self.nodes:
            if node.id < len(tree.nodes):
                node.children = tree.nodes[node.id].children
                tree.nodes[node.id] = node
            else:
                while len(tree.nodes) < node.id:  # a gap only if rows were skipped: keep ids dense
                    tree.nodes.append(Node(id=len(tree.nodes), parent=None, depth=0, action=None))
                tree.nodes.append(node)
                if node.parent is not None and node.parent < len(tree.nodes):
                    tree.nodes[node.parent].children.append(node.id)
        return tree


def list_runs(runs_dir: str | Path | None = None) -> list[RunInfo]:
    """Every run in the runs directory, newest first ([] when none has been recorded)."""
    try:
        with db.reading(db.db_path(runs_dir)) as conn:
            return [_run_info(r) for r in conn.execute("SELECT * FROM runs ORDER BY created DESC, id DESC")]
    except db.NoRunStore:
        return []


def latest_run(runs_dir: str | Path | None = None) -> RunInfo | None:
    """The most recently created run, or None."""
    try:
        with db.reading(db.db_path(runs_dir)) as conn:
            row = conn.execute("SELECT * FROM runs ORDER BY created DESC, id DESC LIMIT 1").fetchone()
    except db.NoRunStore:
        return None
    return _run_info(row) if row else None


def get_run(run: str, runs_dir: str | Path | None = None) -> RunInfo:
    """One run by id (or ``"latest"``); :class:`~o1coder.runs.db.RunNotFound` names the folder when absent."""
    path = db.db_path(runs_dir)
    with db.reading(path) as conn:
        if run == LATEST:
            row = conn.execute("SELECT * FROM runs ORDER BY created DESC, id DESC LIMIT 1").fetchone()
        else:
            row = conn.execute("SELECT * FROM runs WHERE id = ?", (run,)).fetchone()
    if row is None:
        raise db.RunNotFound(f"no run {run!r} in {path}; `o1coder runs --runs-dir {path.parent}` lists the runs")
    return _run_info(row)


def problems(run: str, runs_dir: str | Path | None = None) -> pd.DataFrame:
    """The run's problems in order: problem_id, position, status, started, ended, rollouts, live (dict)."""
    run_id = _resolve(run, runs_dir)
    with db.reading(db.db_path(runs_dir)) as conn:
        rows = conn.execute("SELECT problem_id, position, status, started, ended, rollouts, live FROM problems"
                            " WHERE run_id = ? ORDER BY position", (run_id,)).fetchall()
    columns = ("problem_id", "position", "status", "started", "ended", "rollouts", "live")
    return _frame(rows, columns, json_cols=("live",))


def load_tree(run: str, problem_id: str, runs_dir: str | Path | None = None) -> Tree:
    """The problem's search tree as stored so far (complete once the problem is finished)."""
    run_id = _resolve(run, runs_dir)
    with db.reading(db.db_path(runs_dir)) as conn:
        with _snapshot(conn):  # the config and the nodes from the same commit
            meta = conn.execute("SELECT tree_config FROM problems WHERE run_id = ? AND problem_id = ?",
                                (run_id, problem_id)).fetchone()
            if meta is None:
                raise db.RunNotFound(f"run {run_id} has no problem {problem_id!r}")
            rows = conn.execute("SELECT * FROM nodes WHERE run_id = ? AND problem_id = ? ORDER BY node_id",
                                (run_id, problem_id)).fetchall()
    config = json.loads(meta["tree_config"]) if meta["tree_config"] else {}
    return NodeChanges([row_node(r) for r in rows]).apply(Tree(problem_id=problem_id, config=config))


def nodes_since(run: str, problem_id: str, cursor: int = 0, runs_dir: str | Path | None = None) -> NodeChanges:
    """Nodes of one problem written after ``cursor`` (0: all), each in its latest state, and the next cursor."""
    run_id = _resolve(run, runs_dir)
    with db.reading(db.db_path(runs_dir)) as conn:
        rows = conn.execute("SELECT * FROM nodes WHERE run_id = ? AND problem_id = ? AND seq > ? ORDER BY node_id",
                            (run_id, problem_id, cursor)).fetchall()
    return NodeChanges([row_node(r) for r in rows], max((r["seq"] for r in rows), default=cursor))


def node_counts(run: str, runs_dir: str | Path | None = None) -> dict[str, int]:
    """problem id -> number of stored nodes (cheap: for progress displays)."""
    run_id = _resolve(run, runs_dir)
    with db.reading(db.db_path(runs_dir)) as conn:
        return dict(conn.execute("SELECT problem_id, count(*) FROM nodes WHERE run_id = ? GROUP BY problem_id",
                                 (run_id,)).fetchall())


def problem_results(run: str, runs_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per finished problem: answer, passed (hidden tests), hidden verdict, tokens, executions, stats."""
    run_id = _resolve(run, runs_dir)
    columns = ("problem_id", "position", "answer", "best_node", "passed", "hidden_status", "hidden_n_passed",
               "hidden_n_tests", "prompt_tokens", "completion_tokens", "executions", "wall_seconds", "n_nodes",
               "hidden", "stats", "ended")
    with db.reading(db.db_path(runs_dir)) as conn:
        rows = conn.execute(f"SELECT {', '.join('r.' + c if c != 'position' else 'p.position' for c in columns)}"
                            " FROM results r JOIN problems p USING (run_id, problem_id) WHERE r.run_id = ?"
                            " ORDER BY p.position", (run_id,)).fetchall()
    frame = _frame(rows, columns, json_cols=("hidden", "stats"))
    frame["passed"] = frame["passed"].astype(bool)
    return frame


def metrics(run: str, names: str | list[str] | None = None, runs_dir: str | Path | None = None) -> pd.DataFrame:
    """Metric points (name, step, value, time), ordered by name then step; ``names`` filters."""
    run_id = _resolve(run, runs_dir)
    query, params = "SELECT name, step, value, time FROM metrics WHERE run_id = ?", [run_id]
    if names is not None:
        names = [names] if isinstance(names, str) else list(names)
        query += f" AND name IN ({', '.join('?' * len(names))})"
        params += names
    with db.reading(db.db_path(runs_dir)) as conn:
        rows = conn.execute(query + " ORDER BY name, step", params).fetchall()
    return _frame(rows, ("name", "step", "value", "time"))


# --- internals --------------------------------------------------------------------------------------------------


def _resolve(run: str, runs_dir: str | Path | None) -> str:
    if run != LATEST:
        return run
    return get_run(run, runs_dir).id


class _snapshot:
    """One read transaction over several SELECTs (each SELECT alone is already consistent)."""

    def __init__(self, conn):
        self.conn = conn

    def __enter__(self):
        self.conn.execute("BEGIN")

    def __exit__(self, *exc):
        self.conn.execute("COMMIT")


_RUN_FIELDS = tuple(RunInfo.__dataclass_fields__)


def _run_info(row) -> RunInfo:
    d = {key: row[key] for key in _RUN_FIELDS}  # columns added by a later schema are ignored
    d["config"] = json.loads(d["config"]) if d["config"] else {}
    d["versions"] = json.loads(d["versions"]) if d["versions"] else {}
    return RunInfo(**d)


def _frame(rows, columns, json_cols=()) -> pd.DataFrame:
    import pandas as pd

    decode = [i for i, name in enumerate(columns) if name in json_cols]
    records = []
    for row in rows:
        record = list(row)
        for i in decode:
            record[i] = json.loads(record[i]) if record[i] else None
        records.append(record)
    return pd.DataFrame(records, columns=list(columns))
