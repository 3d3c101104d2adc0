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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="o1coder", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("verify", help="run every reference solution of a benchmark through the sandbox")
    v.add_argument("name", help="mbpp, mbpp-sanitized, mbppplus, humaneval, humanevalplus, taco, codecontests, jsonl")
    v.add_argument("--path", help="local file in the benchmark's own format (without it: the Hugging Face hub)")
    v.add_argument("--limit", type=int, help="only the first N problems")
    v.add_argument("--solutions", type=int, default=3,
                   help="try up to K published solutions per problem (TACO has several); default 3")
    v.add_argument("--workers", type=int, default=None, help="sandbox workers (default: one per core)")
    v.add_argument("--cpu-seconds", type=float, default=4.0, help="CPU limit per test (default 4)")
    v.add_argument("--wall-seconds", type=float, default=15.0, help="wall-clock safety net per test (default 15)")
    v.add_argument("--show", type=int, default=20, help="failures to list (default 20)")
    v.add_argument("--json", action="store_true", help="print the report as JSON")
    v.set_defaults(func=_cmd_verify)
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
