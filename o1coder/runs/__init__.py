"""The run store: what every stage writes and the app and notebooks read, live (SQLite in WAL mode).

One database per runs directory (``<runs dir>/runs.sqlite``; the runs directory is ``--runs-dir``, else
$O1CODER_RUNS_DIR, else data/runs). Writers go through :class:`RunStore` (a search records itself through
:class:`StoreObserver`); readers are plain functions that open read-only connections and never block a writer:

    from o1coder.runs import list_runs, get_run, load_tree, nodes_since, problem_results, metrics, latest_run
    run = latest_run()
    tree = load_tree(run.id, "bundled/add")
    run_id = run_search(load_recipe("tiny-cpu"), "bundled", limit=3)     # what `o1coder search` does

Tables (schema version in ``meta``): runs, problems, nodes, results, metrics; see db.py for every column.
"""

from o1coder.runs.db import (
    DB_FILENAME,
    SCHEMA_VERSION,
    NoRunStore,
    RunNotFound,
    RunStoreError,
    db_path,
)
from o1coder.runs.readers import (
    NodeChanges,
    RunInfo,
    get_run,
    latest_run,
    list_runs,
    load_tree,
    metrics,
    node_counts,
    nodes_since,
    problem_results,
    problems,
)
from o1coder.runs.driver import RunProgress, run_search, search_problems
from o1coder.runs.export import ExportReport, export_run
from o1coder.runs.recorder import StoreObserver
from o1coder.runs.store import RunStore

__all__ = [
    "DB_FILENAME",
    "ExportReport",
    "SCHEMA_VERSION",
    "NoRunStore",
    "NodeChanges",
    "RunInfo",
    "RunNotFound",
    "RunProgress",
    "RunStore",
    "RunStoreError",
    "StoreObserver",
    "db_path",
    "export_run",
    "get_run",
    "latest_run",
    "list_runs",
    "load_tree",
    "metrics",
    "node_counts",
    "nodes_since",
    "problem_results",
    "problems",
    "run_search",
    "search_problems",
]
