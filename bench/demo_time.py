"""How long ``o1coder demo`` takes, and how soon its first search tree is in the run store.

Runs the demo the way the app's Runs page starts it: ``python -m o1coder.cli demo --runs-dir DIR`` as a separate
process. Meanwhile this script polls the run store read-only (as the app does) and notes when the first node of
any search tree has been committed. Printed against the targets of the issue, measured in the same run:

- total wall time (process start to exit) vs 10 minutes;
- time to the first tree (process start to the first committed node) vs 60 seconds;
- the demo's own stage times (from its summary).

    python bench/demo_time.py [--runs-dir DIR] [--keep] [--fresh-model]

``--fresh-model`` builds the tiny model into an empty models folder first thing in the demo (what a new checkout
pays once); by default the cached build in data/models is used. The runs folder is temporary unless --runs-dir.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOTAL_TARGET = 600.0
FIRST_TREE_TARGET = 60.0


def first_node_committed(db: Path) -> bool:
    if not db.is_file():
        return False
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT 1 FROM nodes LIMIT 1").fetchone() is not None
        finally:
            conn.close()
    except sqlite3.Error:  # the schema is not written yet
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs-dir", help="where the demo records its runs (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary runs folder")
    parser.add_argument("--fresh-model", action="store_true", help="build the tiny model from scratch first")
    args = parser.parse_args()

    runs = Path(args.runs_dir) if args.runs_dir else Path(tempfile.mkdtemp(prefix="o1coder-demo-"))
    env = dict(os.environ)
    models = None
    if args.fresh_model:
        models = Path(tempfile.mkdtemp(prefix="o1coder-models-"))
        env["O1CODER_MODELS_DIR"] = str(models)
    log = runs / "demo.log"
    runs.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen([sys.executable, "-m", "o1coder.cli", "demo", "--runs-dir", str(runs)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        first_tree = None
        while process.poll() is None:
            if first_tree is None and first_node_committed(runs / "runs.sqlite"):
                first_tree = time.monotonic() - start
            time.sleep(0.2)
    total = time.monotonic() - start
    text = log.read_text()
    if process.returncode != 0:
        print(text[-3000:])
        print(f"demo failed with exit code {process.returncode} after {total:.0f} s (log: {log})")
        return 1
    summary = text[text.find("demo loop "):] if "demo loop " in text else "(no summary)"
    print(summary.rstrip())
    print()
    print(f"{'measure':<22}{'seconds':>9}{'target':>9}{'ratio':>8}")
    for name, value, target in (("first tree in store", first_tree, FIRST_TREE_TARGET),
                                ("demo total", total, TOTAL_TARGET)):
        shown = "-" if value is None else f"{value:.1f}"
        ratio = "-" if value is None else f"{value / target:.2f}"
        verdict = "" if value is None else ("  ok" if value <= target else "  OVER")
        print(f"{name:<22}{shown:>9}{target:>9.0f}{ratio:>8}{verdict}")
    print(f"(cpu cores: {os.cpu_count()}, load average at the end: {os.getloadavg()[0]:.1f}; runs in {runs})")
    if models is not None:
        shutil.rmtree(models, ignore_errors=True)
    if not args.runs_dir and not args.keep:
        shutil.rmtree(runs, ignore_errors=True)
    return 0 if first_tree is not None and first_tree <= FIRST_TREE_TARGET and total <= TOTAL_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
