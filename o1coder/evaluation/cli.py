"""``o1coder eval``: the Table 1 harness, or with ``--compare-budgets`` the budget-matched search comparison.

Registered in :mod:`o1coder.cli` by :func:`add_eval_parser`. Thin: the work is in :mod:`o1coder.evaluation.record`.
"""

from __future__ import annotations

import argparse
import json
import sys

from o1coder.cliargs import add_common_args


def add_eval_parser(sub) -> None:
    """Add the ``eval`` verb to the ``o1coder`` sub-command parser ``sub``."""
    p = sub.add_parser(
        "eval", help="Pass@1 / pass@k and ASPR, vanilla vs pseudocode prompting (Table 1), or --compare-budgets",
        description="Sample every problem of the benchmark in each mode, score the answers on hidden tests only, and "
        "print Table 1 (Pass@1 and ASPR per mode and their differences) beside the paper's numbers. The run is "
        "recorded in the run store (metrics eval/...) and the tables are written as Markdown and CSV. With "
        "--compare-budgets: MCTS vs best-of-N vs beam search at equal generated tokens instead.")
    add_common_args(p, recipe_default=None, set_example="evaluation.aspr_k=4",
                    recipe_help="preset name or YAML file (default tiny-cpu; not with --resume)")
    p.add_argument("--benchmark", metavar="SPEC",
                   help="'bundled:eval', 'synthetic:eval', 'mbpp@test:PATH', 'NAME:PATH' or 'NAME' (default "
                   "bundled:eval; not with --resume)")
    p.add_argument("--resume", metavar="RUN",
                   help="continue this eval run (killed or interrupted) with its recorded recipe and benchmark: "
                   "finished problems are kept, the others evaluated")
    p.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="spread the problems over Ray actors: a local cluster, or join ADDRESS (needs the scale "
                   "extra)")
    p.add_argument("--actors", type=int, help="with --ray: evaluation actors (default: as many as the cluster holds)")
    p.add_argument("--modes", help="comma-separated: vanilla,pseudocode (default: evaluation.modes)")
    p.add_argument("--limit", type=int, help="only the first N problems")
    p.add_argument("--samples", type=int, help="n answers per problem and mode (default: evaluation.samples)")
    p.add_argument("--k", help="comma-separated k values of pass@k, each <= samples (default: evaluation.k)")
    p.add_argument("--aspr-k", type=int, help="K codes sampled per correct path for ASPR (default: evaluation.aspr_k)")
    p.add_argument("--aspr-search", choices=("search", "samples"),
                   help="where ASPR's correct paths come from (default: evaluation.aspr_search)")
    p.add_argument("--compare-budgets", action="store_true",
                   help="run the budget-matched comparison (evaluation.budget) instead of Table 1")
    p.add_argument("--out", help="output folder (default: <runs dir>/eval/RUN or <runs dir>/budget/RUN)")
    p.add_argument("--prm", metavar="DIR", help="a trained PRM (`o1coder prm train`) for the search's PUCT prior "
                   "(search.selection=puct, search.prior=prm) or beam value")
    p.add_argument("--tcg", metavar="DIR", help="a trained TCG (`o1coder tcg sft|dpo`) writing the search's reward "
                   "tests (search.reward_tests=generated)")
    p.add_argument("--allow-contamination", action="store_true",
                   help="score problems the model's training lineage saw (by default an error naming them)")
    p.add_argument("--workers", type=int, help="sandbox workers (default: execution.workers, else one per core)")
    p.add_argument("--json", action="store_true", help="print the full results as JSON instead of the table")
    p.set_defaults(func=_cmd_eval)


def _ints(text: str | None, option: str) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ValueError(f"{option} must be comma-separated integers, e.g. 1,5; got {text!r}") from None


def _cmd_eval(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from o1coder.cliargs import recipe_from_args
    from o1coder.evaluation.config import eval_config
    from o1coder.evaluation.record import run_budget, run_eval
    from o1coder.guidance import set_guidance

    if args.resume:
        changes = [name for name, value in (("--recipe", args.recipe), ("--benchmark", args.benchmark),
                                            ("--set", args.set), ("--prm", args.prm), ("--tcg", args.tcg),
                                            ("--modes", args.modes), ("--limit", args.limit),
                                            ("--samples", args.samples), ("--k", args.k), ("--aspr-k", args.aspr_k),
                                            ("--aspr-search", args.aspr_search),
                                            ("--compare-budgets", args.compare_budgets)) if value]
        if changes:
            raise ValueError(f"--resume {args.resume} keeps the run's recorded recipe and benchmark: drop "
                             f"{', '.join(changes)}")
        recipe = config = benchmark = None
    else:
        recipe = set_guidance(recipe_from_args(args, "tiny-cpu"), prm=args.prm, tcg=args.tcg)
        config = eval_config(recipe, modes=args.modes, samples=args.samples, k=_ints(args.k, "--k"),
                             aspr_k=args.aspr_k, aspr_search=args.aspr_search)
        benchmark = args.benchmark or "bundled:eval"
    if args.actors is not None and not args.ray:
        raise ValueError("--actors sizes a Ray evaluation: add --ray (or --ray ADDRESS)")
    options = {"config": config, "limit": args.limit, "runs_dir": args.runs_dir, "out": args.out,
               "workers": args.workers, "allow_contamination": args.allow_contamination}
    if args.compare_budgets:
        if args.ray:
            raise ValueError("--compare-budgets runs on this machine: drop --ray")
        with tqdm(desc="budget runs", unit="run", file=sys.stderr) as bar:
            run_id, comparison, files = run_budget(recipe, benchmark, progress=lambda point: bar.update(),
                                                   **options)
        if args.json:
            print(json.dumps({"run_id": run_id, **comparison.to_dict()}, indent=2))
        else:
            print(f"budget run {run_id} on {benchmark}\n")
            print(comparison.to_markdown())
            _print_files(files)
        return 0
    evaluate = run_eval
    if args.ray:  # problems spread over Ray actors; this process writes the store
        from functools import partial

        from o1coder.evaluation.distributed import run_eval_ray

        evaluate = partial(run_eval_ray, address=args.ray, actors=args.actors)
    with tqdm(desc="eval", unit="problem", file=sys.stderr) as bar:
        def progress(done, planned, report):
            bar.total = planned
            bar.update(done - bar.n)

        outcome = evaluate(recipe, benchmark, progress=progress, resume=args.resume, **options)
    if args.json:
        print(json.dumps({"run_id": outcome.run_id, **outcome.report.to_dict()}, indent=2, default=str))
        return 0
    print(f"eval run {outcome.run_id} on {outcome.benchmark}\n")
    print(outcome.files["markdown"].read_text(encoding="utf-8"))
    _print_files(outcome.files)
    return 0


def _print_files(files) -> None:
    for name, path in files.items():
        print(f"  {name}: {path}")
