"""``o1coder prm train`` and ``o1coder prm eval``: thin wrappers over :mod:`o1coder.prm.stage`.

Registered in :mod:`o1coder.cli` by :func:`add_prm_parser`. Both read a run from the run store (``--run``, an id or
"latest"); training reads the recipe's ``prm:`` section (``--recipe``, ``--set prm.key=value``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from o1coder.cliargs import add_common_args


def add_prm_parser(sub) -> None:
    """Add the ``prm`` verb and its steps to the ``o1coder`` sub-command parser ``sub``."""
    prm = sub.add_parser("prm", help="process reward model: train on a run's search trees, evaluate",
                         description="The process reward model (O1-CODER step 5): scores each reasoning step, "
                         "trained on the step values Q/N of MCTS trees (point-wise) or on sibling pairs (pair-wise).")
    steps = prm.add_subparsers(dest="prm_command", metavar="STEP", required=True)

    t = steps.add_parser("train", help="train a PRM on the finished trees of a run",
                         description="Train a point-wise (token classification, soft or hard labels) or pair-wise "
                         "(Bradley-Terry, TRL's RewardTrainer) PRM on a run's trees; problems held out by "
                         "prm.eval_fraction are evaluated after training (eval.json).")
    t.add_argument("--run", required=True, help="a run id or 'latest'")
    t.add_argument("--mode", choices=("pointwise", "pairwise"), help="overrides prm.mode (default: the recipe's)")
    t.add_argument("--out", help="output folder (default: <runs dir>/prm/<mode>-TIME)")
    add_common_args(t, set_example="prm.labels=hard")
    t.add_argument("--json", action="store_true", help="print the training summary and evaluation as JSON")
    t.set_defaults(func=_cmd_train)
    __import__("o1coder.scale.launch", fromlist=["add_accelerate_option"]).add_accelerate_option(t)  # multi-GPU

    e = steps.add_parser("eval", help="AUC, accuracy, calibration and best-of-N reranking of a trained PRM on a run",
                         description="Score the run's steps, sibling pairs and terminals with a trained PRM and "
                         "compare with the MC values. By default only the problems the PRM held out, when it was "
                         "trained on this run.")
    e.add_argument("--run", required=True, help="a run id or 'latest'")
    e.add_argument("--model", required=True, help="a `prm train` output folder")
    e.add_argument("--split", choices=("auto", "heldout", "all"), default="auto",
                   help="problems to score: the PRM's held-out ones of this run, all, or auto (default)")
    add_common_args(e, recipe_default=None, set_example="prm.rerank=min",
                    recipe_help="recipe whose prm section sets bins, rerank and batch size (default: defaults)")
    e.add_argument("--out", help="also write the report as JSON to this file")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.set_defaults(func=_cmd_eval)


def _recipe(args) -> dict:
    from o1coder.cliargs import recipe_from_args

    return recipe_from_args(args)


def _cmd_train(args) -> int:
    from o1coder.prm.stage import train_on_run

    result, evaluation = train_on_run(args.run, _recipe(args), mode=args.mode, out=args.out,
                                      runs_dir=args.runs_dir)
    m = result.metrics
    if args.json:
        summary = {k: v for k, v in m.items() if k != "log_history"}
        print(json.dumps({"output_dir": str(result.output_dir), "training": summary,
                          "evaluation": evaluation.to_dict() if evaluation else None}, indent=2, default=str))
        return 0
    data = ", ".join(f"{k} {v}" for k, v in sorted(m["data"].items()))
    print(f"prm {m['mode']} on run {result.info['run']}: {data}")
    print(f"  {m['steps']} steps, loss {_num(m['first_loss'])} -> {_num(m['last_loss'])}; model in "
          f"{result.output_dir}")
    if evaluation is None:
        print("  no problem held out (prm.eval_fraction: 0): evaluate with `o1coder prm eval --run OTHER_RUN "
              f"--model {result.output_dir}`")
    else:
        print(f"held-out evaluation ({len(result.info['heldout_problems'])} problems, also in "
              f"{Path(result.output_dir) / 'eval.json'}):")
        print("\n".join("  " + line for line in evaluation.summary_lines()))
    return 0


def _cmd_eval(args) -> int:
    from o1coder.prm.stage import evaluate_on_run

    recipe = _recipe(args)
    evaluation, problem_ids = evaluate_on_run(args.run, args.model, recipe, args.runs_dir, args.split)
    record = {"run": args.run, "model": args.model, "problems": problem_ids, **evaluation.to_dict()}
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(record, indent=2) + "\n")
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        print(f"prm eval of {args.model} on {len(problem_ids)} problems of run {args.run}:", file=sys.stdout)
        print("\n".join(evaluation.summary_lines()))
    return 0


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.4f}"
