"""The sandbox's verdicts and speed against evalplus's own judge, on the same MBPP+ programs, in one run.

Programs: for each of the first ``--tasks`` MBPP+ tasks, the reference, up to ``--mutants`` mutants of it
(``o1coder.tcg.mutants``: some are equivalent, some wrong, a few loop forever) and, for the first ``--loopers``
tasks, a program that loops on every input. Each program gets two verdicts from each judge: base inputs, and plus
inputs (evalplus's "base" and "plus" checks); agreement is over both.

- evalplus (PyPI, ``pip install o1coder[bench]``): its ground truth computed its own way (``trusted_exec`` of the
  canonical solution, with the time of each input), then ``evalplus.eval.untrusted_check`` per program and check,
  with its defaults (time limit per input max(1 s, 4x the reference's time), stop at the first failure), in a pool
  of ``--workers`` processes, as ``evalplus.evaluate`` runs it.
- o1coder: ``load_problems("mbppplus")`` (expected outputs and reference times from the sandbox, cached), then
  ``Sandbox.run_many(..., stop_on_failure=True)`` with ``--workers`` workers, cache off, every isolation measure on.

    python bench/judge_vs_evalplus.py [--path ../shared/data/MbppPlus-v0.2.0.jsonl.gz] [--tasks 200]
                                      [--mutants 4] [--loopers 4] [--workers 2]

Prints the agreement (target >= 99.5%), every disagreement, and both wall times with their ratio (target: the
sandbox at least 2x evalplus's speed).
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from o1coder.execution import Limits, Sandbox  # noqa: E402
from o1coder.problems import load_problems  # noqa: E402
from o1coder.tcg.mutants import generate_mutants  # noqa: E402

_EVALPLUS: dict = {}  # task_id -> (problem, expected): set before the pool forks, read by its processes


def evalplus_tasks(path: Path, n_tasks: int) -> dict:
    """The first ``n_tasks`` tasks as evalplus reads them (its own input deserialisation)."""
    from evalplus.data.mbpp import mbpp_deserialize_inputs

    tasks = {}
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            task = json.loads(line)
            task["base_input"] = mbpp_deserialize_inputs(task["task_id"], task["base_input"])
            task["plus_input"] = mbpp_deserialize_inputs(task["task_id"], task["plus_input"] or [])
            tasks[task["task_id"]] = task
            if len(tasks) == n_tasks:
                break
    return tasks


def evalplus_ground_truth(task: dict) -> dict:
    """As ``evalplus.evaluate.get_groundtruth``: the canonical solution's outputs and times, per check."""
    from evalplus.eval._special_oracle import MBPP_OUTPUT_NOT_NONE_TASKS
    from evalplus.gen.util import trusted_exec

    truth = {}
    for check in ("base", "plus"):
        truth[check], truth[f"{check}_time"] = trusted_exec(
            task["prompt"] + task["canonical_solution"], task[f"{check}_input"], task["entry_point"],
            record_time=True, output_not_none=task["entry_point"] in MBPP_OUTPUT_NOT_NONE_TASKS)
    return truth


def evalplus_verdict(item: tuple[str, str]) -> tuple[bool, bool, float]:
    """evalplus's check_correctness (base, then plus), with evalplus.evaluate's default fast_check; and its time."""
    from evalplus.eval import PASS, untrusted_check

    started = time.perf_counter()
    task_id, code = item
    task, truth = _EVALPLUS[task_id]
    verdicts = []
    for check in ("base", "plus"):
        status, _ = untrusted_check("mbpp", code, task[f"{check}_input"], task["entry_point"], expected=truth[check],
                                    atol=task["atol"], ref_time=truth[f"{check}_time"], fast_check=True)
        verdicts.append(status == PASS)
    return verdicts[0], verdicts[1], time.perf_counter() - started


def programs_of(problems, n_mutants: int, n_loopers: int) -> list[tuple[str, str, str]]:
    """(task_id, kind, code) for every program judged."""
    programs = []
    for i, p in enumerate(problems):
        task_id = p.metadata["task_id"]
        programs.append((task_id, "reference", p.reference))
        programs += [(task_id, f"mutant:{m.operator}", m.code) for m in generate_mutants(p.reference, n_mutants)]
        if i < n_loopers:
            programs.append((task_id, "looper", f"def {p.entry_point}(*args):\n    while True:\n        pass\n"))
    return programs


def ours(problems, programs, workers: int) -> tuple[list[tuple[bool, bool]], list, float]:
    by_task = {p.metadata["task_id"]: p for p in problems}
    jobs = []
    for task_id, _, code in programs:
        p = by_task[task_id]
        n_base = p.metadata["n_base"]
        jobs += [(code, p.tests[:n_base], p.setup), (code, p.tests[n_base:], p.setup)]
    # per-input limits come from the reference's time (4x, at least 1 s); cpu_seconds only caps them
    limits = Limits(cpu_seconds=60.0, wall_seconds=120.0, memory_mb=4096)
    with Sandbox(limits=limits, workers=workers, cache=False) as sb:
        sb.run("pass")  # workers warm, as in any long run
        started = time.perf_counter()
        results = sb.run_many(jobs, stop_on_failure=True)
        elapsed = time.perf_counter() - started
    # no plus inputs (Mbpp/793): evalplus counts the empty check as passed
    passed = [r.all_passed or r.n_tests == 0 for r in results]
    return list(zip(passed[::2], passed[1::2])), results, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--path", default=str(ROOT.parent / "shared" / "data" / "MbppPlus-v0.2.0.jsonl.gz"))
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--mutants", type=int, default=4)
    parser.add_argument("--loopers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    path = Path(args.path)
    if not path.exists():
        sys.exit(f"MBPP+ file not found at {path}: pass --path (see README, Benchmark data)")
    try:
        import evalplus  # noqa: F401
    except ImportError:
        sys.exit("evalplus is not installed: pip install 'o1coder[bench]' (or pip install --no-deps evalplus wget)")

    problems = load_problems("mbppplus", path, limit=args.tasks)
    dropped = sum(sum(p.metadata["dropped_inputs"].values()) for p in problems)
    programs = programs_of(problems, args.mutants, args.loopers)
    kinds = {kind.split(":")[0] for _, kind, _ in programs}
    print(f"programs: {len(programs)} over {len(problems)} MBPP+ tasks "
          f"({', '.join(f'{k} {sum(kind.startswith(k) for _, kind, _ in programs)}' for k in sorted(kinds))}); "
          f"inputs dropped by the loader: {dropped}; workers: {args.workers}", flush=True)

    started = time.perf_counter()
    for task_id, task in evalplus_tasks(path, args.tasks).items():
        _EVALPLUS[task_id] = (task, evalplus_ground_truth(task))
    print(f"evalplus ground truth (not timed below): {time.perf_counter() - started:.1f} s", flush=True)

    mine, results, ours_s = ours(problems, programs, args.workers)
    print(f"o1coder sandbox: {ours_s:.1f} s", flush=True)

    multiprocessing.set_start_method("fork", force=True)
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        timed = list(pool.map(evalplus_verdict, [(task_id, code) for task_id, _, code in programs]))
    evalplus_s = time.perf_counter() - started
    theirs = [(base, plus) for base, plus, _ in timed]
    print(f"evalplus: {evalplus_s:.1f} s", flush=True)

    disagreements = [i for i, (a, b) in enumerate(zip(mine, theirs)) if a != b]
    agreement = 1 - len(disagreements) / len(programs)
    print(f"agreement: {len(programs) - len(disagreements)}/{len(programs)} programs ({100 * agreement:.2f}%), "
          f"base and plus verdicts both (target >= 99.5%)")
    for i in disagreements:
        task_id, kind, _ = programs[i]
        detail = next((o.message for r in results[2 * i:2 * i + 2] for o in r.outcomes if not o.passed), "")
        print(f"  {task_id} {kind}: o1coder (base, plus) = {mine[i]}, evalplus = {theirs[i]}; o1coder: {detail[:160]}")
    print(f"speed: o1coder {ours_s:.1f} s, evalplus {evalplus_s:.1f} s: {evalplus_s / ours_s:.2f}x (target >= 2x); "
          f"{os.cpu_count()} CPUs")
    # where the time goes: the tasks that cost each judge most (seconds of its workers, summed over programs)
    ours_by_task, theirs_by_task = {}, {}
    for i, (task_id, _, _) in enumerate(programs):
        ours_by_task[task_id] = ours_by_task.get(task_id, 0.0) + results[2 * i].duration + results[2 * i + 1].duration
        theirs_by_task[task_id] = theirs_by_task.get(task_id, 0.0) + timed[i][2]
    for name, costs in (("o1coder", ours_by_task), ("evalplus", theirs_by_task)):
        top = sorted(costs.items(), key=lambda kv: -kv[1])[:5]
        print(f"costliest tasks, {name} (worker-seconds, of {sum(costs.values()):.0f}): "
              + ", ".join(f"{task_id} {seconds:.0f}" for task_id, seconds in top))
    print(f"passed (base and plus): o1coder {sum(a and b for a, b in mine)}, "
          f"evalplus {sum(a and b for a, b in theirs)}")


if __name__ == "__main__":
    main()
