"""The run store's SQLite file: where it lives, its schema, and how writers and readers connect.

One database per runs directory (``<runs dir>/runs.sqlite``) in WAL mode, so one process can write a run while the
app, notebooks and ``o1coder runs`` read it: readers see the last committed transaction and never wait for the
writer, and the writer never waits for them. ``synchronous=NORMAL`` skips the fsync per commit (a commit survives a
killed process, only a power cut can lose the last few), which keeps one commit per rollout cheap.

Readers connect with a ``file:...?mode=ro`` URI, so a reader can never modify or lock out a run in progress.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from o1coder import paths

log = logging.getLogger(__name__)

DB_FILENAME = "runs.sqlite"
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 10_000  # a writer waits this long for another writer's transaction (two runs in one directory)

RUN_STATUSES = ("running", "finished", "failed", "interrupted")
PROBLEM_STATUSES = ("pending", "running", "finished")

# Version 1. A change that old readers cannot read bumps SCHEMA_VERSION and adds a migration in open_writer.
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY,                 -- e.g. 20261126-071500-ab12 (UTC start time + random suffix: sortable)
    created REAL NOT NULL,               -- unix time
    status TEXT NOT NULL CHECK (status IN {RUN_STATUSES}),
    kind TEXT NOT NULL DEFAULT 'search', -- which stage wrote the run
    recipe TEXT,                         -- the recipe's name
    config TEXT NOT NULL,                -- the full recipe after --set overrides (JSON)
    problem_spec TEXT,                   -- e.g. "bundled:train"
    problem_limit INTEGER,
    versions TEXT NOT NULL,              -- {{"python", "torch", "transformers", "o1coder", "sqlite"}} (JSON)
    seed INTEGER,
    data_hash TEXT,                      -- sha256 of the planned problems (their JSON form)
    problems_planned INTEGER NOT NULL DEFAULT 0,
    problems_done INTEGER NOT NULL DEFAULT 0,
    problems_passed INTEGER NOT NULL DEFAULT 0,  -- answers that pass all hidden tests
    pass_rate REAL,                      -- problems_passed / problems_done
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    executions INTEGER NOT NULL DEFAULT 0,   -- programs executed, all test sets
    duration REAL NOT NULL DEFAULT 0,    -- seconds of running, summed over sessions (resumes)
    heartbeat REAL,                      -- unix time of the writer's last commit
    ended REAL,
    error TEXT,                          -- why a failed run failed
    host TEXT,                           -- where the current session runs
    pid INTEGER,
    sessions INTEGER NOT NULL DEFAULT 1  -- 1 + number of resumes
);
CREATE TABLE IF NOT EXISTS problems (
    run_id TEXT NOT NULL,
    problem_id TEXT NOT NULL,
    position INTEGER NOT NULL,           -- order in the run
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN {PROBLEM_STATUSES}),
    started REAL,
    ended REAL,
    tree_config TEXT,                    -- the Tree's config (JSON)
    rollouts INTEGER NOT NULL DEFAULT 0, -- rollouts finished so far (live)
    live TEXT,                           -- the search's stats at the last rollout (JSON, live)
    PRIMARY KEY (run_id, problem_id)
);
CREATE TABLE IF NOT EXISTS nodes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- grows on every insert or update: the cursor of nodes_since
    run_id TEXT NOT NULL,
    problem_id TEXT NOT NULL,
    node_id INTEGER NOT NULL,
    parent INTEGER,
    depth INTEGER NOT NULL,
    action INTEGER,                      -- 1 structure, 2 refine, 3 code; NULL for the root
    text TEXT NOT NULL,
    visits INTEGER NOT NULL,
    value_sum REAL NOT NULL,
    value REAL NOT NULL,                 -- Q/N
    reward REAL,
    exec TEXT,                           -- sandbox verdict (JSON)
    prm REAL,
    dead INTEGER NOT NULL DEFAULT 0,
    errors TEXT,                         -- JSON list
    uct TEXT,                            -- JSON {{"q", "explore", "score"}}
    prior REAL,
    logprob REAL,
    tokens INTEGER,
    created INTEGER NOT NULL,            -- order of creation in the tree
    extra TEXT,                          -- JSON: Node fields newer than this schema
    updated REAL NOT NULL,
    UNIQUE (run_id, problem_id, node_id)
);
CREATE INDEX IF NOT EXISTS nodes_by_seq ON nodes (run_id, problem_id, seq);
CREATE TABLE IF NOT EXISTS results (
    run_id TEXT NOT NULL,
    problem_id TEXT NOT NULL,
    answer TEXT,                         -- the final program (NULL: the search found no code)
    best_node INTEGER,
    passed INTEGER NOT NULL,             -- 1 when the answer passes every hidden test
    hidden_status TEXT,
    hidden_n_passed INTEGER,
    hidden_n_tests INTEGER,
    hidden TEXT,                         -- the full hidden-test verdict (JSON)
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    executions INTEGER NOT NULL DEFAULT 0,
    wall_seconds REAL,
    n_nodes INTEGER,
    stats TEXT,                          -- the search's stats (JSON)
    ended REAL NOT NULL,
    PRIMARY KEY (run_id, problem_id)
);
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    time REAL NOT NULL,
    PRIMARY KEY (run_id, name, step)
);
"""


class RunStoreError(RuntimeError):
    """The run store cannot be used: not a database, a newer schema, a missing run."""


class RunNotFound(RunStoreError, LookupError):
    """No run with that id in this runs directory."""


class NoRunStore(RunNotFound, FileNotFoundError):
    """The runs directory has no run store yet (no run was recorded there)."""


def db_path(runs_dir: str | Path | None = None) -> Path:
    """``<runs dir>/runs.sqlite`` (runs dir: the argument, else $O1CODER_RUNS_DIR, else data/runs)."""
    return paths.runs_dir(runs_dir) / DB_FILENAME


def open_writer(path: Path) -> sqlite3.Connection:
    """A read-write connection in autocommit mode (transactions are explicit, see :func:`transaction`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        with transaction(conn):
            version = _schema_version(conn, path)
            if version is None:
                for statement in SCHEMA.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            else:
                _check_version(version, path)
    except sqlite3.DatabaseError as e:
        raise _explain(e, path) from None
    return conn


def open_reader(path: Path) -> sqlite3.Connection:
    """A read-only connection; raises :class:`RunStoreError` naming the path when the file is not a run store."""
    if not path.is_file():
        raise NoRunStore(f"no run store at {path}: no run has been recorded in {path.parent} yet")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        version = _schema_version(conn, path)
    except sqlite3.DatabaseError as e:
        raise _explain(e, path) from None
    if version is None:  # created a moment ago by a writer that has not written the schema yet
        conn.close()
        raise NoRunStore(f"the run store {path} is empty: no run has been recorded in {path.parent} yet")
    _check_version(version, path)
    conn.row_factory = sqlite3.Row
    return conn


@contextlib.contextmanager
def reading(path: Path) -> Iterator[sqlite3.Connection]:
    """A short-lived read-only connection: short read transactions let the writer checkpoint the WAL."""
    conn = open_reader(path)
    try:
        yield conn
    except sqlite3.DatabaseError as e:
        raise _explain(e, path) from None
    finally:
        conn.close()


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE ... COMMIT: takes the write lock up front, so a second writer waits instead of failing."""
    if conn.in_transaction:  # left open by a KeyboardInterrupt between BEGIN and try: nothing of it was committed
        conn.execute("ROLLBACK")
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _schema_version(conn: sqlite3.Connection, path: Path) -> int | None:
    # one query, one snapshot: asked in two queries ("is there a meta table?", "is there anything?"), a reader could
    # see the empty file, then the writer's first commit, and take a new run store for a foreign database
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    if "meta" not in names:
        if names:
            raise RunStoreError(f"{path} is an SQLite database but not an o1coder run store (it has no meta table); "
                                "point --runs-dir at another folder")
        return None
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None:
        raise RunStoreError(f"{path} has no schema_version in its meta table: not an o1coder run store")
    try:
        return int(row[0])
    except ValueError:
        raise RunStoreError(f"{path}: schema_version {row[0]!r} is not a number") from None


def _check_version(version: int, path: Path) -> None:
    if version > SCHEMA_VERSION:
        raise RunStoreError(f"{path} was written by a newer o1coder (run store schema {version}; this version reads "
                            f"up to {SCHEMA_VERSION}): upgrade o1coder, or use another --runs-dir")


def _explain(error: sqlite3.DatabaseError, path: Path) -> RunStoreError:
    message = str(error)
    if "not a database" in message or "malformed" in message or "corrupt" in message:
        return RunStoreError(f"{path} is not a readable run store ({message}); move it aside or use another "
                             "--runs-dir")
    if "unable to open" in message:
        return RunStoreError(f"cannot open the run store {path} ({message}); check the folder and its permissions")
    return RunStoreError(f"run store {path}: {message}")
