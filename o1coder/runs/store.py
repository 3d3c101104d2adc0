"""The writer side of the run store: one :class:`RunStore` per process that runs a stage.

Every state change is one short transaction, ordered so that a process killed at any instant (SIGKILL included)
leaves a run that :meth:`RunStore.resume_run` can continue: a problem is ``finished`` in the same transaction that
writes its result, its last nodes, the run's totals and the metric points, so a problem is either complete or
searched again from scratch; nothing is ever half-counted or written twice.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from o1coder.problems import Problem
from o1coder.runs import db
from o1coder.runs.provenance import new_run_id, package_versions, problems_hash, run_seed, writer_alive
from o1coder.runs.rows import UPSERT

log = logging.getLogger(__name__)

_TOTALS = """
UPDATE runs SET
    problems_done = (SELECT count(*) FROM results WHERE run_id = :run),
    problems_passed = (SELECT coalesce(sum(passed), 0) FROM results WHERE run_id = :run),
    prompt_tokens = (SELECT coalesce(sum(prompt_tokens), 0) FROM results WHERE run_id = :run),
    completion_tokens = (SELECT coalesce(sum(completion_tokens), 0) FROM results WHERE run_id = :run),
    executions = (SELECT coalesce(sum(executions), 0) FROM results WHERE run_id = :run)
WHERE id = :run
"""


class RunStore:
    """Writes runs, problems, nodes, results and metrics to ``<runs dir>/runs.sqlite``.

    >>> with RunStore(tmp_dir) as store:
    ...     run = store.create_run(recipe, problems, problem_spec="bundled")
    """

    def __init__(self, runs_dir: str | Path | None = None):
        self.path = db.db_path(runs_dir)
        self.conn = db.open_writer(self.path)
        self._session_start: dict[str, tuple[float, float]] = {}  # run -> (monotonic start, duration before)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- runs ---------------------------------------------------------------------------------------------------

    def create_run(self, recipe: Mapping[str, Any], problems: Sequence[Problem], *, problem_spec: str | None = None,
                   problem_limit: int | None = None, kind: str = "search") -> str:
        """Record a new run (status ``running``) with its planned problems; returns the run id."""
        ids = [p.id for p in problems]
        if len(set(ids)) != len(ids):
            raise ValueError("the problem list has duplicate ids; every problem of a run needs its own id")
        now = time.time()
        with db.transaction(self.conn):
            run_id = new_run_id(now)
            while self.conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone():
                run_id = new_run_id(now)
            self.conn.execute(
                "INSERT INTO runs (id, created, status, kind, recipe, config, problem_spec, problem_limit, versions,"
                " seed, data_hash, problems_planned, heartbeat, host, pid) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?, ?)",
                (run_id, now, kind, recipe.get("name"), json.dumps(recipe, default=str), problem_spec, problem_limit,
                 json.dumps(package_versions()), run_seed(recipe), problems_hash(problems), len(ids), now,
                 socket.gethostname(), os.getpid()),
            )
            self.conn.executemany("INSERT INTO problems (run_id, problem_id, position) VALUES (?, ?, ?)",
                                  [(run_id, pid, i) for i, pid in enumerate(ids)])
        self._session_start[run_id] = (time.monotonic(), 0.0)
        log.info("run %s created in %s (%d problems)", run_id, self.path, len(ids))
        return run_id

    def resume_run(self, run_id: str) -> list[str]:
        """Take over an unfinished run; returns the ids of its problems still to search, in order.

        A problem that was in progress when the run stopped loses its partial nodes and goes back to ``pending``:
        searching it again from scratch with the same seed gives the same tree, and no row is duplicated.
        """
        row = self.conn.execute("SELECT status, host, pid, heartbeat, duration FROM runs WHERE id = ?",
                                (run_id,)).fetchone()
        if row is None:
            raise db.RunNotFound(f"no run {run_id!r} in {self.path}; `o1coder runs` lists the runs there")
        status, host, pid, heartbeat, duration = row
        if status == "finished":
            return []
        ours = host == socket.gethostname() and pid == os.getpid()  # e.g. a notebook that lost its store object
        if status == "running" and not ours and writer_alive(host, pid, heartbeat):
            raise db.RunStoreError(f"run {run_id} is still running (pid {pid} on {host}); stop it before resuming")
        now = time.time()
        with db.transaction(self.conn):
            unfinished = [r[0] for r in self.conn.execute(
                "SELECT problem_id FROM problems WHERE run_id = ? AND status != 'finished' ORDER BY position",
                (run_id,))]
            self.conn.execute("DELETE FROM nodes WHERE run_id = ? AND problem_id IN (SELECT problem_id FROM problems"
                              " WHERE run_id = ? AND status != 'finished')", (run_id, run_id))
            self.conn.execute("UPDATE problems SET status = 'pending', started = NULL, rollouts = 0, live = NULL"
                              " WHERE run_id = ? AND status != 'finished'", (run_id,))
            self.conn.execute("UPDATE runs SET status = 'running', error = NULL, ended = NULL, heartbeat = ?,"
                              " host = ?, pid = ?, sessions = sessions + 1 WHERE id = ?",
                              (now, socket.gethostname(), os.getpid(), run_id))
        self._session_start[run_id] = (time.monotonic(), float(duration or 0.0))
        log.info("run %s resumed: %d problems left", run_id, len(unfinished))
        return unfinished

    def set_status(self, run_id: str, status: str, error: str | None = None) -> None:
        """End a session: ``finished``, ``failed`` (with the error) or ``interrupted`` (resumable)."""
        if status not in db.RUN_STATUSES:
            raise ValueError(f"run status must be one of {', '.join(db.RUN_STATUSES)}; got {status!r}")
        now = time.time()
        with db.transaction(self.conn):
            if status != "running":  # a problem left in progress is searched again on resume
                self.conn.execute("UPDATE problems SET status = 'pending' WHERE run_id = ? AND status = 'running'",
                                  (run_id,))
            self.conn.execute("UPDATE runs SET status = ?, error = ?, ended = ? WHERE id = ?",
                              (status, error, None if status == "running" else now, run_id))
            self._beat(run_id, now)

    @contextmanager
    def guard(self, run_id: str, finish: bool = True) -> Iterator[None]:
        """Record how the block ends for run ``run_id``: ``interrupted`` on Ctrl-C (KeyboardInterrupt, resumable),
        ``failed`` with the error on any other exception (both re-raised), ``finished`` when the block completes
        (unless ``finish`` is false: an outer caller finishes the run).

        >>> with store.guard(run_id):
        ...     search_problems(...)
        """
        try:
            yield
        except KeyboardInterrupt:
            self.set_status(run_id, "interrupted")
            log.warning("run %s interrupted; continue it with --resume %s", run_id, run_id)
            raise
        except BaseException as error:
            described = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
            self.set_status(run_id, "failed", error=described)
            log.error("run %s failed: %s", run_id, described)
            raise
        if finish:
            self.set_status(run_id, "finished")

    # --- problems and nodes -------------------------------------------------------------------------------------

    def start_problem(self, run_id: str, problem_id: str) -> None:
        with db.transaction(self.conn):
            self._require_problem(run_id, problem_id)
            self.conn.execute("UPDATE problems SET status = 'running', started = ? WHERE run_id = ? AND"
                              " problem_id = ?", (time.time(), run_id, problem_id))

    def write_nodes(self, run_id: str, problem_id: str, rows: Iterable[tuple], *, tree_config: dict | None = None,
                    rollouts: int | None = None, live: Mapping[str, Any] | None = None) -> None:
        """Upsert node rows (see :func:`o1coder.runs.rows.node_row`) and the problem's live progress, in one commit."""
        now = time.time()
        with db.transaction(self.conn):
            self.conn.executemany(UPSERT, rows)
            if tree_config is not None:
                self.conn.execute("UPDATE problems SET tree_config = ? WHERE run_id = ? AND problem_id = ?",
                                  (json.dumps(tree_config, default=str), run_id, problem_id))
            if rollouts is not None:
                self.conn.execute("UPDATE problems SET rollouts = ?, live = ? WHERE run_id = ? AND problem_id = ?",
                                  (rollouts, json.dumps(live or {}, default=str), run_id, problem_id))
            self._beat(run_id, now)

    def finish_problem(self, run_id: str, problem_id: str, *, rows: Iterable[tuple], tree_config: dict,
                       result: Mapping[str, Any], metrics: Mapping[str, float] | None = None) -> dict[str, Any]:
        """Write a problem's last nodes, its result and the run's new totals in ONE transaction.

        ``result`` holds the ``results`` columns (answer, best_node, passed, hidden_*, tokens, executions,
        wall_seconds, n_nodes, stats). ``metrics`` are logged at step = problems done. Returns the run's totals.
        """
        now = time.time()
        with db.transaction(self.conn):
            self._require_problem(run_id, problem_id)
            self.conn.executemany(UPSERT, rows)
            record = {**result, "run_id": run_id, "problem_id": problem_id, "ended": now}
            for key in ("hidden", "stats"):
                if record.get(key) is not None and not isinstance(record[key], str):
                    record[key] = json.dumps(record[key], default=str)
            columns = ", ".join(record)
            self.conn.execute(f"INSERT OR REPLACE INTO results ({columns}) VALUES ({', '.join('?' * len(record))})",
                              tuple(record.values()))
            self.conn.execute("UPDATE problems SET status = 'finished', ended = ?, tree_config = ? WHERE run_id = ?"
                              " AND problem_id = ?", (now, json.dumps(tree_config, default=str), run_id, problem_id))
            self.conn.execute(_TOTALS, {"run": run_id})
            self.conn.execute("UPDATE runs SET pass_rate = CAST(problems_passed AS REAL) / problems_done WHERE id = ?"
                              " AND problems_done > 0", (run_id,))
            totals = dict(zip(("done", "planned", "passed", "pass_rate", "prompt_tokens", "completion_tokens",
                               "executions"), self.conn.execute(
                "SELECT problems_done, problems_planned, problems_passed, pass_rate, prompt_tokens,"
                " completion_tokens, executions FROM runs WHERE id = ?", (run_id,)).fetchone()))
            points = {"pass_rate": totals["pass_rate"], "tokens": totals["prompt_tokens"] +
                      totals["completion_tokens"], "executions": totals["executions"], **(metrics or {})}
            self._log(run_id, totals["done"], points, now)
            self._beat(run_id, now)
        return totals

    # --- metrics ------------------------------------------------------------------------------------------------

    def log_metrics(self, run_id: str, step: int, values: Mapping[str, float]) -> None:
        """Points of named time series (upserted by (run, name, step): logging a step twice keeps the last)."""
        with db.transaction(self.conn):
            self._log(run_id, step, values, time.time())

    def _log(self, run_id: str, step: int, values: Mapping[str, float], now: float) -> None:
        points = [(run_id, name, step, None if v is None else float(v), now) for name, v in values.items()]
        self.conn.executemany("INSERT OR REPLACE INTO metrics (run_id, name, step, value, time) VALUES (?, ?, ?, ?, ?)",
                              points)

    def _beat(self, run_id: str, now: float) -> None:
        start, before = self._session_start.get(run_id, (time.monotonic(), 0.0))
        self.conn.execute("UPDATE runs SET heartbeat = ?, duration = ? WHERE id = ?",
                          (now, before + time.monotonic() - start, run_id))

    def _require_problem(self, run_id: str, problem_id: str) -> None:
        if not self.conn.execute("SELECT 1 FROM problems WHERE run_id = ? AND problem_id = ?",
                                 (run_id, problem_id)).fetchone():
            raise db.RunStoreError(f"problem {problem_id!r} is not part of run {run_id} in {self.path}")
