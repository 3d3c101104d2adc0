"""Starting ``o1coder`` commands (the demo, a search) as background processes the app can follow.

A process runs in its own session (it outlives the browser tab and the app), writes its output to a log file under
``<runs dir>/logs/``, and records its run in the run store like any other run: the app follows it from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from o1coder import paths


@dataclass
class Launched:
    """A background process started by this app session."""

    label: str
    argv: list[str]
    log: Path
    started: float
    process: subprocess.Popen | None = field(default=None, repr=False)
    run_id: str | None = None  # the run it created, once seen in the run store

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def returncode(self) -> int | None:
        """None while running; the exit status after (polling also reaps the finished process)."""
        return None if self.process is None else self.process.poll()

    @property
    def running(self) -> bool:
        return self.process is not None and self.returncode is None

    def tail(self, lines: int = 25) -> str:
        try:
            with self.log.open("rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 16_384))
                text = f.read().decode("utf-8", "replace")
        except OSError:
            return ""
        text = text.replace("\r", "\n")  # tqdm redraws its bar with carriage returns
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])


def cli_verbs() -> set[str]:
    """The verbs this installation's ``o1coder`` command knows (``demo`` is added by a later stage)."""
    from o1coder.cli import verbs

    return set(verbs())


def search_args(recipe: str, problems: str, *, limit: int | None = None, overrides: list[str] | None = None,
                runs_dir: str | None = None) -> list[str]:
    """The ``o1coder search ...`` arguments for a new run."""
    args = ["search", "--recipe", recipe, "--problems", problems]
    if limit:
        args += ["--limit", str(int(limit))]
    for override in overrides or []:
        args += ["--set", override]
    if runs_dir:
        args += ["--runs-dir", runs_dir]
    return args


def check_search(recipe: str, problems: str, overrides: list[str]) -> None:
    """Raise ValueError / FileNotFoundError naming the problem before a process is started for nothing."""
    from o1coder.config import apply_overrides, load_recipe
    from o1coder.runs.driver import check_recipe

    check_recipe(apply_overrides(load_recipe(recipe), overrides))
    name, colon, path = problems.strip().partition(":")
    if not name:
        raise ValueError("the problem set is empty; e.g. bundled, bundled:train or mbpp:../shared/data/mbpp.jsonl")
    file = Path(path).expanduser()
    file = file if file.is_absolute() else paths.PROJECT_ROOT / file  # the process runs in the project folder
    if colon and name != "bundled" and path and not file.exists():
        raise FileNotFoundError(f"no file {path} (from the problem set {problems!r}); paths are relative to "
                                f"{paths.PROJECT_ROOT}")


def start(label: str, args: list[str], runs_dir: str) -> Launched:
    """Start ``python -m o1coder.cli ARGS`` detached, output to ``<runs dir>/logs/<label>-<time>.log``."""
    log_dir = Path(runs_dir) / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log = log_dir / f"{label}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}.log"
    argv = [sys.executable, "-m", "o1coder.cli", *args]
    env = {**os.environ, "O1CODER_RUNS_DIR": runs_dir, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        out.write(f"$ o1coder {' '.join(args)}\n".encode())
        out.flush()
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   cwd=paths.PROJECT_ROOT, env=env, start_new_session=True)
    return Launched(label, argv, log, time.time(), process)
