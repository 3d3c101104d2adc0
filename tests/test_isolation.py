"""The tests leave the user's data alone: runs, caches and models of a test session go to temporary folders.

tests/conftest.py points O1CODER_RUNS_DIR (and the cache and models folders) at the session's temporary folder
before any fixture runs, for the whole session: module-scoped fixtures, subprocesses (the CLI, accelerate launches)
and notebook kernels inherit it; its ``pytest_sessionfinish`` fails the session if the checkout's data/runs
appeared anyway.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import shared_models_dir

from o1coder.paths import PROJECT_ROOT, cache_dir, models_dir, runs_dir


def _outside_checkout(path: Path) -> bool:
    return not Path(path).resolve().is_relative_to(PROJECT_ROOT.resolve())


@pytest.fixture(scope="module")
def runs_seen_by_a_module_fixture() -> Path:
    # module-scoped fixtures run before the function-scoped autouse fixture: the session one must cover them
    return runs_dir()


def test_runs_caches_and_models_resolve_to_temporary_folders(tmp_path_factory, runs_seen_by_a_module_fixture):
    base = tmp_path_factory.getbasetemp()
    assert runs_dir() == base / "runs" and cache_dir() == base / "cache" and models_dir() == shared_models_dir(base)
    assert runs_seen_by_a_module_fixture == base / "runs"
    assert all(_outside_checkout(p) for p in (runs_dir(), cache_dir(), models_dir()))


def test_a_command_started_by_a_test_writes_into_the_temporary_runs_dir(tmp_path_factory):
    from o1coder.runs.store import RunStore

    with RunStore() as store:  # what every stage opens without --runs-dir
        assert _outside_checkout(store.path)
    result = subprocess.run([sys.executable, "-m", "o1coder.cli", "runs", "--json"], capture_output=True, text=True,
                            timeout=120, check=True, env=dict(os.environ), cwd=PROJECT_ROOT)
    assert result.returncode == 0
    probe = subprocess.run([sys.executable, "-c", "from o1coder.paths import runs_dir; print(runs_dir())"],
                           capture_output=True, text=True, timeout=60, check=True, cwd=PROJECT_ROOT)
    assert Path(probe.stdout.strip()) == tmp_path_factory.getbasetemp() / "runs"

