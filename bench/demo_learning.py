"""Does the demo learn? Runs ``o1coder demo`` and prints its learning curve with intervals, timings and targets.

For each seed, the demo runs as the app starts it (``python -m o1coder.cli demo --runs-dir DIR --seed N``, a
separate process) while this script polls the run store for the first committed tree node. Then, from the loop
run's metrics (o1coder.training.loop_metrics):

- held-out Pass@1 by policy version with its 95% Wilson interval and counts; ASPR with its interval;
- the baseline of the self-play gain, measured in the same run: the warm-started policy (version 1). Printed: the
  last version's Pass@1 minus it (target >= 15 points) and whether their intervals overlap (target: they do not);
- per round: MCTS vs best-of-N solve rates at equal mean tokens (target: MCTS ahead every round; best-of-N under
  the generous common cap is printed beside it) and PRM AUC on held-out trees (target >= 0.75);
- wall time against 600 s and the first tree against 60 s.

    python bench/demo_learning.py --seeds 0 1 2 [--runs-dir DIR] [--set KEY=VALUE ...] [--figure PNG]

Targets are printed as met or not; nothing here is a test. Numbers depend on the machine: name it with the figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_time import first_node_committed  # one poller for both demo benches

ROOT = Path(__file__).resolve().parent.parent
TOTAL_TARGET, FIRST_TREE_TARGET, GAIN_TARGET, AUC_TARGET = 600.0, 60.0, 0.15, 0.75


def run_one(seed: int, runs: Path, extra: list[str]) -> tuple[int, float, float | None, str]:
    """(exit code, wall seconds, seconds to the first tree, log text) of one demo process."""
    runs.mkdir(parents=True, exist_ok=True)
    log = runs / "demo.log"
    command = [sys.executable, "-m", "o1coder.cli", "demo", "--runs-dir", str(runs), "--seed", str(seed)]
    command += [x for s in extra for x in ("--set", s)]
    start, first = time.monotonic(), None
    with log.open("w") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=out, stderr=subprocess.STDOUT)
        while process.poll() is None:
            if first is None and first_node_committed(runs / "runs.sqlite"):
                first = time.monotonic() - start
            time.sleep(0.2)
    return process.returncode, time.monotonic() - start, first, log.read_text()


def report(seed: int, runs: Path, seconds: float, first: float | None) -> dict:
    from o1coder.runs import list_runs, metrics
    from o1coder.training.loop_metrics import curve_lines

    [loop] = [r for r in list_runs(runs) if r.kind == "loop"]
    frame = metrics(loop.id, runs_dir=runs)
    value = {(n, int(s)): v for n, s, v in zip(frame["name"], frame["step"], frame["value"])}
    versions = sorted(s for n, s in value if n == "loop/pass@1")
    rounds = sorted(s for n, s in value if n == "loop/round")
    print(f"\nseed {seed}: loop {loop.id}")
    for line in curve_lines(loop.id, runs):
        print(f"  {line}")
    warm, last = 1, versions[-1]
    gain = value[("loop/pass@1", last)] - value[("loop/pass@1", warm)]
    apart = value[("loop/pass@1_low", last)] > value[("loop/pass@1_high", warm)]
    # ahead: more training problems solved than best-of-N at equal mean tokens (one common cap chosen so that
    # best-of-N's mean tokens come closest to MCTS's: loop_metrics.matched_cap); the generous common cap is shown too
    ahead = [value.get(("loop/mcts_solve_rate", t), 0) > value.get(("loop/best_of_n_matched_solve_rate", t), 1)
             for t in rounds]
    generous = [value.get(("loop/mcts_solve_rate", t), 0) > value.get(("loop/best_of_n_solve_rate", t), 1)
                for t in rounds]
    aucs = [value.get(("loop/prm_auc", t)) for t in rounds]
    ratio = value[("loop/pass@1", last)] / value[("loop/pass@1", warm)] if value[("loop/pass@1", warm)] else None
    checks = {
        f"Pass@1 v{last} - v1 (warm start, the baseline) >= {GAIN_TARGET:.0%}": (f"{gain:+.1%}", gain >= GAIN_TARGET),
        "95% intervals of v1 and the last version apart": ("apart" if apart else "overlap", apart),
        "held-out problems per evaluation >= 100": (f"{value[('loop/eval_problems', last)]:.0f}",
                                                     value[("loop/eval_problems", last)] >= 100),
        "MCTS ahead of best-of-N at equal mean tokens, every round": (str(ahead), all(ahead)),
        f"PRM AUC on held-out trees >= {AUC_TARGET}, every round": (
            str([None if a is None else round(a, 3) for a in aucs]), all(a is not None and a >= AUC_TARGET
                                                                          for a in aucs)),
        f"whole demo <= {TOTAL_TARGET:.0f} s": (f"{seconds:.0f} s ({seconds / TOTAL_TARGET:.2f}x the target)",
                                                seconds <= TOTAL_TARGET),
        f"first tree <= {FIRST_TREE_TARGET:.0f} s": ("-" if first is None else f"{first:.1f} s",
                                                     first is not None and first <= FIRST_TREE_TARGET),
    }
    print(f"  Pass@1 ratio last / warm start (the baseline): {'-' if ratio is None else f'{ratio:.2f}x'}")
    for name, (shown, met) in checks.items():
        print(f"  {'met    ' if met else 'NOT MET'}  {name}: {shown}")
    print(f"  (not a target) MCTS ahead of best-of-N under the common cap, where best-of-N spends more: {generous}")
    return {"seed": seed, "met": all(met for _, met in checks.values())}


def save_figure(runs: Path, path: Path) -> None:
    """The loop's learning-curve figure (the app's) as a PNG, drawn by headless chromium through Playwright."""
    from playwright.sync_api import sync_playwright

    from o1coder.runs import list_runs, metrics
    from o1coder.viz.loop import learning_curve_figure

    [loop] = [r for r in list_runs(runs) if r.kind == "loop"]
    html = runs / "learning_curve.html"
    learning_curve_figure(metrics(loop.id, runs_dir=runs)).write_html(html, include_plotlyjs=True, full_html=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1200, "height": 460})
        page.goto(html.resolve().as_uri())
        page.wait_for_selector(".main-svg")
        page.screenshot(path=str(path), full_page=True)
        browser.close()
    print(f"figure of seed {runs.name}: {path}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="demo seeds to run, one after another")
    parser.add_argument("--runs-dir", help="parent folder of the runs (default: a temporary folder)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="passed to the demo")
    parser.add_argument("--figure", type=Path, help="write the first seed's learning curve here as a PNG "
                                                    "(headless chromium; $CHROMIUM, else /usr/bin/chromium)")
    args = parser.parse_args()
    parent = Path(args.runs_dir) if args.runs_dir else Path(tempfile.mkdtemp(prefix="o1coder-demo-learning-"))
    results = []
    for seed in args.seeds:
        runs = parent / f"seed-{seed}"
        code, seconds, first, text = run_one(seed, runs, args.set)
        summary = text[text.find("demo loop "):] if "demo loop " in text else text[-3000:]
        print(summary.rstrip())
        if code != 0:
            print(f"seed {seed}: the demo failed with exit code {code} after {seconds:.0f} s "
                  f"(log: {runs / 'demo.log'})")
            return 1
        results.append(report(seed, runs, seconds, first))
        if args.figure and len(results) == 1:
            save_figure(runs, args.figure)
    print(f"\nall targets met for seeds {[r['seed'] for r in results if r['met']]} of {args.seeds} (runs in {parent})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
