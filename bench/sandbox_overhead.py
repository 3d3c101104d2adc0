"""The sandbox harness's own cost per program, against another revision of it, measured side by side in one run.

Runs the worker's harness in this process, without namespaces or a worker pool (so no root is needed, and what is
measured is the harness's code, not the kernel's isolation), on trivial programs (``f(x) = x + 1``) with three
tests each: assertion tests (decomposed, in the tests' own globals) and call tests. For each program: the CPU time
of the init (planning the fork, watching, reading reports) and of the test process (its page faults after the fork,
setup + candidate, the tests, the reports), from ``getrusage``, with the page faults of each. Rounds alternate
between this checkout and ``--against`` (a git revision, extracted with ``git archive`` into a temporary folder),
so a drift of the machine's speed favours neither; the medians are printed with the ratio.

    python bench/sandbox_overhead.py [--against REV] [--programs 600] [--rounds 3]

The figure that moves least on a shared machine is the test process's page faults: each is a page of the init's
memory copied after the fork because the test process wrote to it (a reference count is a write).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("assert", "call")


def child(tree: Path, kind: str, n: int) -> dict:
    """Run ``n`` programs through the harness of ``tree``; CPU milliseconds and page faults per program."""
    sys.path.insert(0, str(tree))
    from o1coder.execution import judge, sandbox
    from o1coder.execution.limits import Limits
    from o1coder.problems import TestCase

    tests = ([TestCase.assertion(f"assert f({i}) == {i + 1}") for i in range(3)] if kind == "assert" else
             [TestCase.call("f", [i], i + 1) for i in range(3)])
    plans = [p.wire for p in judge.plan_tests(tests)]
    limits = sandbox._limits_as_dict(Limits(cpu_seconds=4, wall_seconds=15, memory_mb=1024))
    jobs = [json.loads(json.dumps({"code": f"def f(x):\n    return x + 1  # {i}\n", "setup": "", "plans": plans,
                                   "limits": limits, "budget": 8.0})) for i in range(n + 1)]
    sys.path.insert(0, str(tree / "o1coder" / "execution"))
    import gc

    import harness
    import worker
    from isolation import Isolation

    scratch = tempfile.mkdtemp(prefix="sandbox-overhead-")
    harness.HARNESS_DIR, harness.WORK_DIR = os.path.join(scratch, "harness"), os.path.join(scratch, "work")
    for name in worker.PREIMPORTS:
        __import__(name)
    if hasattr(harness, "snapshot_modules"):
        harness.snapshot_modules()
    gc.freeze()
    iso = Isolation()
    harness.run_job(jobs[0], iso, None)  # warm: the first program compiles the tests
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    for job in jobs[1:]:
        result = harness.run_job(job, iso, None)
        if [r["state"] for r in result["records"]] != ["ok"] * 3:
            raise SystemExit(f"{tree}: a trivial program did not pass: {result}")
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)

    def per_program(a, b) -> tuple[float, float]:
        cpu = (b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime) / n * 1000
        return cpu, (b.ru_minflt - a.ru_minflt) / n

    (init_ms, init_faults), (test_ms, test_faults) = per_program(self0, self1), per_program(kids0, kids1)
    return {"init_ms": init_ms, "init_faults": init_faults, "test_ms": test_ms, "test_faults": test_faults}


def measure(tree: Path, kind: str, n: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", str(tree), "--kind", kind, "--programs", str(n)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", default=None, help="a git revision to compare with (default: none)")
    parser.add_argument("--programs", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--kind", default="assert", choices=KINDS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child), args.kind, args.programs)))
        return
    with tempfile.TemporaryDirectory(prefix="sandbox-overhead-") as tmp:
        trees = {"this checkout": ROOT}
        if args.against:
            other = Path(tmp) / "against"
            other.mkdir()
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.against, "o1coder"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", str(other)], input=archive, check=True)
            trees = {args.against: other, **trees}
        print(f"{args.programs} trivial programs x 3 tests per measurement, {args.rounds} rounds, "
              f"load average {os.getloadavg()[0]:.1f}", flush=True)
        for kind in KINDS:
            rows: dict[str, list[dict]] = {name: [] for name in trees}
            for _ in range(args.rounds):
                for name, tree in trees.items():
                    rows[name].append(measure(tree, kind, args.programs))
            medians = {name: {k: statistics.median(r[k] for r in runs) for k in runs[0]} for name, runs in rows.items()}
            for name, m in medians.items():
                print(f"{kind:6s} tests, {name:14s}: init {m['init_ms']:.2f} ms ({m['init_faults']:.0f} faults), "
                      f"test process {m['test_ms']:.2f} ms ({m['test_faults']:.0f} faults), "
                      f"sum {m['init_ms'] + m['test_ms']:.2f} ms CPU per program")
            if args.against:
                a, b = medians[args.against], medians["this checkout"]
                print(f"{kind:6s} tests: this checkout / {args.against}: CPU "
                      f"{(b['init_ms'] + b['test_ms']) / (a['init_ms'] + a['test_ms']):.2f}x, test-process faults "
                      f"{b['test_faults'] / a['test_faults']:.2f}x")
        print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
