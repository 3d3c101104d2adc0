"""Sandbox throughput against the openai/human-eval execution pattern, measured side by side in one run.

Baseline (written here, after the pattern of human-eval's ``check_correctness``): a thread pool of W threads; each
check starts a ``multiprocessing.Manager`` for the result list and a ``multiprocessing.Process`` that makes a
temporary directory, disables dangerous os functions, and ``exec``s program + tests under a timer; the thread joins
it with a timeout. Forked from this benchmark process, with no namespaces, no uid change, no rlimits beyond memory.

Ours: ``Sandbox(workers=W, cache=False)`` with every isolation measure on (namespaces, read-only minimal root,
unprivileged uid, rlimits, one process per test, out-of-process judging).

    python bench/exec_throughput.py [--path ../shared/data/mbpp.jsonl] [--repeat 3] [--workers 2] [--limit N]
                                    [--rounds 3]

Prints programs/second for both in each round (ours, then the baseline) and the median ratio (target: ours >= 5x
the baseline; issue 18 set 5x). Alternating rounds keep a drift of the machine's speed from favouring either side.
"""

from __future__ import annotations

import argparse
import faulthandler
import multiprocessing
import os
import signal
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from o1coder.execution import Limits, Sandbox  # noqa: E402
from o1coder.problems import load_problems  # noqa: E402


def _guarded_exec(program: str, timeout: float, results) -> None:
    """Body of the baseline's child process (human-eval's unsafe_execute, in our own words)."""
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        faulthandler.disable()
        import builtins
        import shutil
        import subprocess

        saved = {"rmtree": shutil.rmtree, "rmdir": os.rmdir, "chdir": os.chdir, "unlink": os.unlink}
        builtins.exit = builtins.quit = None
        for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                     "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
                     "fchown", "chmod", "chown", "chroot", "lchown", "getcwd", "chdir"):
            setattr(os, name, None)
        shutil.rmtree = shutil.move = shutil.chown = None
        subprocess.Popen = None

        def on_alarm(signum, frame):
            raise TimeoutError("timed out")

        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            exec(program, {"__name__": "__main__"})
            results.append("passed")
        except BaseException as e:  # noqa: BLE001
            results.append(f"failed: {type(e).__name__}")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            shutil.rmtree, os.rmdir, os.chdir, os.unlink = (saved["rmtree"], saved["rmdir"], saved["chdir"],
                                                            saved["unlink"])  # for the temp dir's cleanup


def baseline_check(program: str, timeout: float) -> bool:
    manager = multiprocessing.Manager()
    try:
        results = manager.list()
        p = multiprocessing.Process(target=_guarded_exec, args=(program, timeout, results))
        p.start()
        p.join(timeout=timeout + 1)
        if p.is_alive():
            p.kill()
        return len(results) > 0 and results[0] == "passed"
    finally:
        manager.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "mbpp.jsonl"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--limit", type=int, default=None, help="first N problems only")
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3,
                        help="alternate the two this many times and report the median ratio: the machine's speed "
                             "drifts over minutes, and each side's programs/s depend on it")
    args = parser.parse_args()
    if not Path(args.path).exists():
        sys.exit(f"MBPP file not found at {args.path}: pass --path (see README, Benchmark data)")

    problems = load_problems("mbpp", args.path, limit=args.limit) * args.repeat
    jobs = [(p.reference, p.tests, p.setup) for p in problems]
    programs = [p.setup + "\n" + p.reference + "\n" + "\n".join(t.code for t in p.tests) for p in problems]
    n = len(jobs)

    limits = Limits(cpu_seconds=args.timeout, wall_seconds=args.timeout * 2)
    multiprocessing.set_start_method("fork", force=True)
    print(f"programs: {n} (MBPP references x{args.repeat}), workers: {args.workers}, cache: off, "
          f"rounds: {args.rounds} (ours, then the baseline, in each)")
    ratios = []
    with Sandbox(limits=limits, workers=args.workers, cache=False) as sb:
        sb.run("pass")  # workers warm, as in any long run
        for round_ in range(1, args.rounds + 1):
            started = time.perf_counter()
            ours = sb.run_many(jobs)
            ours_s = time.perf_counter() - started
            ours_ok = sum(r.all_passed for r in ours)

            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.workers) as pool:
                base = list(pool.map(lambda prog: baseline_check(prog, args.timeout), programs))
            base_s = time.perf_counter() - started
            base_ok = sum(base)

            ours_rate, base_rate = n / ours_s, n / base_s
            ratios.append(ours_rate / base_rate)
            print(f"round {round_}: baseline (human-eval pattern) {base_rate:6.1f} programs/s ({base_ok}/{n} passed, "
                  f"{base_s:.1f} s); o1coder sandbox (isolated) {ours_rate:6.1f} programs/s ({ours_ok}/{n} passed, "
                  f"{ours_s:.1f} s); ratio {ratios[-1]:.2f}x")
    print(f"ratio: {statistics.median(ratios):.2f}x median of {len(ratios)} rounds "
          f"({', '.join(f'{r:.2f}x' for r in ratios)}) (target >= 5x)")
    print(f"isolation: {sb.isolation}")


if __name__ == "__main__":
    main()
