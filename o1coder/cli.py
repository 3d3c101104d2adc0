"""The ``o1coder`` command. Each stage adds its verb; every verb is a thin wrapper over library functions."""

from __future__ import annotations

import argparse
import json
import logging
import sys

DESCRIPTION = """o1coder: reasoning-based code generation (O1-CODER replication).

Stages: verify (benchmarks + sandbox) -> search (MCTS over pseudocode steps) -> export -> tcg / prm
(test case generator, process reward model) -> sft / rl / loop (policy training, self-play) -> eval."""


def _cmd_verify(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from o1coder.execution import Limits, Sandbox
    from o1coder.problems import load_problems
    from o1coder.verify import verify_references

    limits = Limits(cpu_seconds=args.cpu_seconds, wall_seconds=max(args.wall_seconds, args.cpu_seconds))
    with Sandbox(limits=limits, workers=args.workers) as sandbox:
        options = {"sandbox": sandbox} if args.name in ("mbppplus", "humanevalplus") else {}
        if args.name.startswith("synthetic:"):  # the generated world: a problem spec with its settings
            from o1coder.bundled import resolve_problem_spec

            problems = resolve_problem_spec(args.name, limit=args.limit)
        else:
            problems = load_problems(args.name, args.path, limit=args.limit, **options)
        with tqdm(total=len(problems), desc=f"verify {args.name}", unit="problem", disable=args.json) as bar:
            report = verify_references(problems, sandbox, solutions=args.solutions, progress=bar.update)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"{args.name}: {report.passed}/{report.checked} references pass all their tests"
              + (f" ({report.without_reference} problems have no reference)" if report.without_reference else ""))
        print("statuses: " + ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items())))
        for pid, result in report.failures[: args.show]:
            d = report.to_dict()["failures"]
            msg = next(f["message"] for f in d if f["id"] == pid)
            print(f"  {pid}: {result.status} ({result.n_passed}/{result.n_tests}) {msg}")
        if len(report.failures) > args.show:
            print(f"  ... {len(report.failures) - args.show} more (use --show N or --json)")
    return 0 if not report.failures else 1


def _cmd_search(args: argparse.Namespace) -> int:
    import signal

    from tqdm import tqdm

    from o1coder.config import apply_overrides, load_recipe
    from o1coder.runs.driver import run_search

    if args.resume is None and (not args.recipe or not args.problems):
        raise ValueError("a new run needs --recipe and --problems (or --resume RUN to continue a run)")
    if args.set and not args.recipe:
        raise ValueError("--set changes a recipe: give --recipe too (a resumed run keeps its recorded recipe)")
    recipe = apply_overrides(load_recipe(args.recipe), args.set) if args.recipe else None
    state: dict = {}

    def progress(p) -> None:
        bar = state.get("bar")
        if bar is None:
            state["run_id"] = p.run_id
            print(f"run {p.run_id} ({'resumed, ' if args.resume else ''}{p.done}/{p.planned} problems done)",
                  file=sys.stderr)
            bar = state["bar"] = tqdm(total=p.planned, initial=p.done, desc="search", unit="problem")
        else:
            bar.update(p.done - bar.n)
        bar.set_postfix({"pass": "-" if p.pass_rate is None else f"{p.pass_rate:.0%}", "tokens": p.tokens,
                         "execs": p.executions}, refresh=True)

    def terminate(signum, frame):  # SIGTERM stops like Ctrl-C: the run is marked interrupted, resumable
        raise KeyboardInterrupt

    search = run_search
    if args.ray:  # distributed: problems spread over Ray actors (o1coder.scale); the driver writes the store
        from functools import partial

        from o1coder.scale import run_search_ray

        search = partial(run_search_ray, address=args.ray, actors=args.actors, actor_cpus=args.actor_cpus)
    elif args.actors or args.actor_cpus:
        raise ValueError("--actors and --actor-cpus size a Ray run: add --ray (or --ray ADDRESS)")
    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        run_id = search(recipe, args.problems, limit=args.limit, runs_dir=args.runs_dir, resume=args.resume,
                            workers=args.workers, progress=progress)
    except KeyboardInterrupt:
        run_id = state.get("run_id") or args.resume
        if run_id:
            print(f"\nrun {run_id} interrupted; continue it with: o1coder search --resume {run_id}"
                  + (f" --runs-dir {args.runs_dir}" if args.runs_dir else ""), file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
        if state.get("bar") is not None:
            state["bar"].close()
    from o1coder.runs import get_run

    run = get_run(run_id, args.runs_dir)
    print(f"run {run.id} {run.status}: {run.problems_done}/{run.problems_planned} problems, pass rate "
          f"{_percent(run.pass_rate)}, {run.tokens} tokens, {run.executions} executions, {_duration(run.duration)}")
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from o1coder.runs import db_path, list_runs

    runs = list_runs(args.runs_dir)
    if args.json:
        print(json.dumps([r.to_dict() for r in runs], indent=2, default=str))
        return 0
    if not runs:
        print(f"no runs in {db_path(args.runs_dir).parent}")
        return 0
    header = ("RUN", "STATUS", "RECIPE", "DONE", "PASS", "TOKENS", "EXECS", "STARTED", "DURATION")
    rows = [(r.id, r.status + ("?" if r.stale else ""), r.recipe or "-", f"{r.problems_done}/{r.problems_planned}",
             _percent(r.pass_rate), str(r.tokens), str(r.executions), _time(r.created), _duration(r.duration))
            for r in runs]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if any(r.stale for r in runs):
        print("running? = its process is gone (killed or crashed): continue it with o1coder search --resume RUN")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from o1coder.runs.export import export_run

    report = export_run(args.run, args.out, runs_dir=args.runs_dir, datasets=not args.no_datasets)
    print(f"run {report.run_id}: {len(report.trees)} trees -> {report.out / 'trees'}")
    for name, rows in report.datasets.items():
        print(f"  dataset {name}: {rows} rows -> {report.out / 'datasets' / name}")
    if report.skipped:
        print(f"  {len(report.skipped)} problems not finished yet (not exported)")
    if report.note:
        print(f"  {report.note}")
    return 0


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _duration(seconds: float | None) -> str:
    seconds = int(round(seconds or 0))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _time(stamp: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="o1coder", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("verify", help="run every reference solution of a benchmark through the sandbox")
    v.add_argument("name", help="mbpp, mbpp-sanitized, mbppplus, humaneval, humanevalplus, taco, codecontests, jsonl, "
                   "synthetic (or a spec such as synthetic:eval,n=200,level=3)")
    v.add_argument("--path", help="local file in the benchmark's own format (without it: the Hugging Face hub)")
    v.add_argument("--limit", type=int, help="only the first N problems")
    v.add_argument("--solutions", type=int, default=3,
                   help="try up to K published solutions per problem (TACO has several); default 3")
    v.add_argument("--workers", type=int, default=None, help="sandbox workers (default: one per core)")
    v.add_argument("--cpu-seconds", type=float, default=10.0,
                   help="CPU limit per test (default 10: some references, e.g. MBPP 123, need 3-4 s)")
    v.add_argument("--wall-seconds", type=float, default=30.0, help="wall-clock safety net per test (default 30)")
    v.add_argument("--show", type=int, default=20, help="failures to list (default 20)")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(func=_cmd_verify)

    runs_dir_help = "runs directory (default: $O1CODER_RUNS_DIR, else data/runs)"
    s = sub.add_parser("search", help="MCTS over pseudocode steps on a problem set, recorded in the run store",
                       description="Search every problem of SPEC with RECIPE; each rollout is committed to the run "
                       "store, so the app can watch the trees grow. Ctrl-C stops cleanly; --resume RUN continues "
                       "a stopped, killed or failed run without redoing finished problems.")
    s.add_argument("--recipe", help="preset name (e.g. tiny-cpu) or a YAML file; not needed with --resume")
    s.add_argument("--problems", metavar="SPEC",
                   help="'bundled', 'bundled:train', 'bundled:eval', 'synthetic:train', 'synthetic:eval' (e.g. "
                   "'synthetic:eval,n=200,seed=1,level=2'), 'NAME:PATH' or 'NAME' (not needed with --resume)")
    s.add_argument("--limit", type=int, help="only the first N problems")
    s.add_argument("--runs-dir", help=runs_dir_help)
    s.add_argument("--resume", metavar="RUN", help="continue this run (its recorded recipe and problems are used)")
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe value, e.g. --set search.rollouts=8 (repeatable)")
    s.add_argument("--workers", type=int, help="sandbox workers (default: execution.workers, else one per core; "
                   "with --ray: per actor, default its CPUs)")
    s.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="spread the problems over Ray actors (pip install 'o1coder[scale]'): alone, start a Ray "
                   "cluster on this machine; with ADDRESS ('auto', 'HOST:6379', 'ray://HOST:10001'), join that one")
    s.add_argument("--actors", type=int, help="with --ray: search actors (default: as many as the cluster holds)")
    s.add_argument("--actor-cpus", type=float,
                   help="with --ray: CPUs per actor (default 1, GPU actors: CPUs per GPU up to 8)")
    s.set_defaults(func=_cmd_search)

    r = sub.add_parser("runs", help="list the runs of a runs directory")
    r.add_argument("--runs-dir", help=runs_dir_help)
    r.add_argument("--json", action="store_true", help="print every recorded field as JSON")
    r.set_defaults(func=_cmd_runs)

    e = sub.add_parser("export", help="write a run's trees (JSON) and datasets (D_process, D+, pairs) to a folder")
    e.add_argument("run", metavar="RUN", help="a run id or 'latest'")
    e.add_argument("--out", required=True, help="output folder")
    e.add_argument("--runs-dir", help=runs_dir_help)
    e.add_argument("--no-datasets", action="store_true", help="only the tree JSON files")
    e.set_defaults(func=_cmd_export)
    __import__("o1coder.tcg.cli", fromlist=["add_tcg_parser"]).add_tcg_parser(sub)  # o1coder tcg ...
    __import__("o1coder.prm.cli", fromlist=["add_prm_parser"]).add_prm_parser(sub)  # o1coder prm ...
    __import__("o1coder.evaluation.cli", fromlist=["add_eval_parser"]).add_eval_parser(sub)  # o1coder eval ...
    __import__("o1coder.training.cli", fromlist=["add_training_parsers"]).add_training_parsers(sub)  # sft rl loop demo
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError, RuntimeError, ImportError) as e:
        print(f"o1coder {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"o1coder {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
