"""What a run records about where it came from: its id, package versions, seed and a hash of its problems.

Enough to tell, months later, whether two runs are comparable: same recipe (the config JSON), same code
(versions), same data (the hash) and same seed.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import secrets
import socket
import sqlite3
import time
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Any

from o1coder.problems import Problem

VERSIONED_PACKAGES = ("torch", "transformers", "o1coder")


def new_run_id(now: float | None = None) -> str:
    """``YYYYMMDD-HHMMSS-xxxx``: UTC start time (so ids sort by start) and 4 random hex digits (so they are unique)."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def package_versions() -> dict[str, str | None]:
    """Versions of Python, SQLite and the packages that change results; read from metadata (nothing imported)."""
    versions: dict[str, str | None] = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in VERSIONED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def problems_hash(problems: Sequence[Problem]) -> str:
    """sha256 of the problems' JSON form (prompt, tests, reference, ...), in order: changes when the data does."""
    digest = hashlib.sha256()
    for problem in problems:
        digest.update(json.dumps(problem.to_dict(), sort_keys=True, default=repr).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def run_seed(recipe: Mapping[str, Any]) -> int | None:
    """The seed the search uses (its section's, else the recipe's top-level one), else the sampling seed."""
    from o1coder.search.config import search_config

    seed = search_config(recipe).seed
    if seed is None:
        seed = (recipe.get("sampling") or {}).get("seed")
    return None if seed is None else int(seed)


def writer_alive(host: str | None, pid: int | None, heartbeat: float | None, stale_after: float = 600.0) -> bool:
    """Whether the process that last wrote a run may still be running it.

    On the same host the process table answers exactly; from another host only the heartbeat (the time of its last
    commit) can, and a rollout of a large model can take minutes, hence the long ``stale_after``.
    """
    if host == socket.gethostname() and pid:
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return not _is_zombie(pid)
    return heartbeat is not None and time.time() - heartbeat < stale_after


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False
