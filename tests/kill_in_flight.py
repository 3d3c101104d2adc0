"""Start an ``o1coder`` command, SIGKILL it once problems finished with others in flight (shared by the search and
evaluation resume tests)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from o1coder.runs import db_path, latest_run, list_runs, problems


def kill_with_problems_in_flight(args: list[str], runs_dir: str, log_path: Path, cwd, timeout: float,
                                 done: int = 2) -> int:
    """Run ``python -m o1coder.cli *args``; SIGKILL it once ``done`` problems are finished and at least 2 were seen
    running at once. Returns the most problems seen in flight together."""
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "o1coder.cli", *args], cwd=cwd, stdout=log,
                                stderr=subprocess.STDOUT)
    deadline, in_flight = time.monotonic() + timeout, 0
    try:
        while True:
            assert proc.poll() is None, log_path.read_text()[-2000:]
            assert time.monotonic() < deadline, f"no progress to {done} finished problems within {timeout:.0f} s"
            if db_path(runs_dir).exists() and list_runs(runs_dir):
                run = latest_run(runs_dir)
                in_flight = max(in_flight, int((problems(run.id, runs_dir)["status"] == "running").sum()))
                if run.problems_done >= done and in_flight >= 2:
                    return in_flight
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
