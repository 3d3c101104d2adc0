"""A run store that cannot be read says why and where: corrupt files, foreign databases, newer schemas."""

from __future__ import annotations

import sqlite3

import pytest

from o1coder.cli import main
from o1coder.runs import SCHEMA_VERSION, RunStore, RunStoreError, db_path, list_runs


def test_a_file_that_is_not_sqlite_is_named(tmp_path, capsys):
    db_path(tmp_path).write_bytes(b"this is not a database at all\n" * 200)
    with pytest.raises(RunStoreError, match=str(db_path(tmp_path))):
        list_runs(tmp_path)
    with pytest.raises(RunStoreError, match="not a readable run store"):
        RunStore(tmp_path)
    assert main(["runs", "--runs-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert str(db_path(tmp_path)) in err and "Traceback" not in err


def test_another_sqlite_database_is_not_taken_for_a_run_store(tmp_path):
    conn = sqlite3.connect(db_path(tmp_path))
    conn.execute("CREATE TABLE users (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(RunStoreError, match="not an o1coder run store"):
        list_runs(tmp_path)
    with pytest.raises(RunStoreError, match="not an o1coder run store"):
        RunStore(tmp_path)


def test_a_newer_schema_asks_for_an_upgrade(tmp_path):
    RunStore(tmp_path).close()
    conn = sqlite3.connect(db_path(tmp_path))
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    conn.commit()
    conn.close()
    for open_store in (lambda: list_runs(tmp_path), lambda: RunStore(tmp_path)):
        with pytest.raises(RunStoreError, match="newer o1coder.*upgrade"):
            open_store()


def test_the_schema_version_is_recorded(tmp_path):
    RunStore(tmp_path).close()
    conn = sqlite3.connect(db_path(tmp_path))
    assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == (str(SCHEMA_VERSION),)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"meta", "runs", "problems", "nodes", "results", "metrics"} <= tables
