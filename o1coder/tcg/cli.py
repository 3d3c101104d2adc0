"""``o1coder tcg ...``: data, sft, dpo, generate, eval. Thin wrappers: the work is in the library modules.

Registered in :mod:`o1coder.cli` by :func:`add_tcg_parser`. Every step reads the same recipe (``--recipe``,
``--set section.key=value``); outputs go to ``--out`` (default: a new folder under ``<runs dir>/tcg/``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from o1coder.cliargs import add_common_args

RUNS_DIR_HELP = "runs directory for default outputs (default: $O1CODER_RUNS_DIR, else data/runs)"


def add_tcg_parser(sub) -> None:
    """Add the ``tcg`` verb and its steps to the ``o1coder`` sub-command parser ``sub``."""
    tcg = sub.add_parser("tcg", help="test case generator: training data, SFT, DPO, generation, evaluation",
                         description="The test case generator (O1-CODER step 1): (problem, code) -> 3 test cases.")
    steps = tcg.add_subparsers(dest="tcg_command", metavar="STEP", required=True)

    def step(name: str, help: str, func, problems: str):
        p = steps.add_parser(name, help=help, description=help)
        add_common_args(p, set_example="tcg.sft.max_steps=10", runs_dir_help=RUNS_DIR_HELP)
        p.add_argument("--problems", default=problems, metavar="SPEC",
                       help=f"'bundled', 'bundled:train', 'bundled:eval', 'NAME:PATH' or 'NAME' (default {problems})")
        p.add_argument("--limit", type=int, help="only the first N problems")
        p.set_defaults(func=func)
        return p

    verify_help = "run each solution variant on the problem's tests first and drop those that fail (TACO)"
    d = step("data", "write the SFT rows and DPO pairs (JSON lines) with a report of what was skipped", _cmd_data,
             "bundled:train")
    d.add_argument("--out", help="output folder (default: <runs dir>/tcg/data-TIME)")
    d.add_argument("--verify", action="store_true", help=verify_help)
    s = step("sft", "supervised fine-tuning of a LoRA adapter on TRL's SFTTrainer", _cmd_sft, "bundled:train")
    s.add_argument("--out", help="output folder for the adapter and metrics.json (default: <runs dir>/tcg/sft-TIME)")
    s.add_argument("--verify", action="store_true", help=verify_help)
    o = step("dpo", "DPO on TRL's DPOTrainer; the reference model is the SFT model", _cmd_dpo, "bundled:train")
    o.add_argument("--sft", help="the `tcg sft` output folder (adapter) or a merged model folder; without it the "
                                 "reference is the base model")
    o.add_argument("--out", help="output folder for the adapter and metrics.json (default: <runs dir>/tcg/dpo-TIME)")
    o.add_argument("--verify", action="store_true", help=verify_help)
    g = step("generate", "generate test cases for each problem's reference solution", _cmd_generate, "bundled:eval")
    g.add_argument("--adapter", help="a `tcg sft` / `tcg dpo` output folder: an adapter applied on the recipe's "
                                     "model, or the whole trained model (tcg.lora: false)")
    g.add_argument("--out", help="JSON lines file (default: <runs dir>/tcg/generate-TIME/tests.jsonl)")
    e = step("eval", "validity of generated tests and their mutant kill rate against the dataset's tests", _cmd_eval,
             "bundled:eval")
    e.add_argument("--adapter", help="generate with this adapter (as in `tcg generate`)")
    e.add_argument("--tests", help="evaluate a `tcg generate` output file instead of generating")
    e.add_argument("--max-mutants", type=int, default=20, help="mutants per reference solution (default 20)")
    e.add_argument("--out", help="write the report as JSON to this file")
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    for p in (d, s, o, e):
        p.add_argument("--workers", type=int, help="sandbox workers (default: execution.workers, else one per core)")
    for p in (s, o):
        __import__("o1coder.scale.launch", fromlist=["add_accelerate_option"]).add_accelerate_option(p)  # multi-GPU


# -- shared set-up -----------------------------------------------------------------------------------------------
def _recipe(args):
    from o1coder.cliargs import recipe_from_args

    return recipe_from_args(args)


def _problems(args):
    from o1coder.bundled import resolve_problem_spec

    spec = args.problems
    options = {"limit": args.limit} if args.limit and not spec.startswith("bundled") else {}
    problems = resolve_problem_spec(spec, **options)
    return problems[: args.limit] if args.limit else problems


def _out(args, stage: str) -> Path:
    from o1coder.paths import runs_dir

    out = Path(args.out) if getattr(args, "out", None) else runs_dir(args.runs_dir) / "tcg" / \
        f"{stage}-{time.strftime('%Y%m%d-%H%M%S')}"
    return out


def _sandbox(recipe, args):
    from o1coder.execution import Sandbox
    from o1coder.runs.driver import sandbox_settings

    limits, workers = sandbox_settings(recipe, getattr(args, "workers", None))
    return Sandbox(limits=limits, workers=workers)


def _rows(kind: str, args, recipe):
    from o1coder.tcg.config import tcg_config
    from o1coder.tcg.data import dpo_rows, sft_rows

    config, problems = tcg_config(recipe), _problems(args)
    build = sft_rows if kind == "sft" else dpo_rows
    if args.verify:
        with _sandbox(recipe, args) as sandbox:
            return (*build(problems, config, sandbox=sandbox), config)
    return (*build(problems, config), config)


def _write_jsonl(path: Path, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")  # ASCII: generated text may hold lone surrogates


# -- steps -------------------------------------------------------------------------------------------------------
def _cmd_data(args) -> int:
    from o1coder.config import model_config
    from o1coder.tcg.data import filter_by_length
    from o1coder.tcg.train import load_tokenizer

    recipe, out = _recipe(args), _out(args, "data")
    model = model_config(recipe)
    for kind in ("sft", "dpo"):
        rows, report, config = _rows(kind, args, recipe)
        rows = filter_by_length(rows, load_tokenizer(model.name_or_path, config, model.trust_remote_code),
                                config.max_length, report)
        _write_jsonl(out / f"{kind}.jsonl", rows)
        (out / f"{kind}_report.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n")
        print(f"{kind}: {report.rows} rows from {report.problems} problems -> {out / f'{kind}.jsonl'}  "
              + ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()) if v))
    return 0


def _cmd_sft(args) -> int:
    from o1coder.config import model_config
    from o1coder.tcg.train import train_sft

    recipe, out = _recipe(args), _out(args, "sft")
    rows, report, config = _rows("sft", args, recipe)
    result = train_sft(rows, model_config(recipe), config, out, report=report)
    _print_training(result, report)
    return 0


def _cmd_dpo(args) -> int:
    from o1coder.config import model_config
    from o1coder.tcg.config import tcg_config
    from o1coder.tcg.train import train_dpo

    recipe, out = _recipe(args), _out(args, "dpo")
    config = tcg_config(recipe)
    if config.dpo_pairs == "shuffled":
        rows, report, config = _rows("dpo", args, recipe)
    else:
        rows, report = _sampled_pairs(args, recipe, config, out)
    result = train_dpo(rows, model_config(recipe), config, out, sft_dir=args.sft, report=report)
    _print_training(result, report)
    return 0


def _sampled_pairs(args, recipe, config, out: Path):
    """``tcg.dpo_pairs`` corrected or both: the SFT model (``--sft``) samples answers and the sandbox corrects
    them, on the main process only; the other processes of a launch read the pairs it wrote to ``out``."""
    from o1coder.config import model_config, sampling_config
    from o1coder.tcg.corrected import training_pairs
    from o1coder.tcg.data import DataReport
    from o1coder.trainkit import computed_once

    if not args.sft:
        raise ValueError(f"tcg.dpo_pairs={config.dpo_pairs} pairs the SFT model's own answers: give --sft (a `tcg "
                         "sft` output folder), or set tcg.dpo_pairs=shuffled")
    report = DataReport()

    def compute() -> list[dict]:
        nonlocal report
        with _sandbox(recipe, args) as sandbox:
            rows, report = training_pairs(_problems(args), config, sandbox=sandbox, sft_dir=args.sft,
                                          model_config=model_config(recipe), params=sampling_config(recipe))
        return rows

    rows = computed_once(out / "pairs.jsonl", compute)
    return rows, report


def _print_training(result, report) -> None:
    m = result.metrics
    counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts.items()) if v)
    print(f"tcg {m['stage']}: {report.rows} rows ({counts})")
    loss = "-" if m["first_loss"] is None else f"{m['first_loss']:.4f} -> {m['last_loss']:.4f}"
    print(f"  {m['steps']} steps, loss {loss}; adapter and metrics.json in {result.output_dir}")


def _generate(args, recipe, problems):
    from tqdm import tqdm

    from o1coder.config import model_config, sampling_config
    from o1coder.models import build_generator
    from o1coder.tcg.config import tcg_config
    from o1coder.tcg.generate import generate_tests

    from o1coder.tcg.train import trained_model_config

    model = model_config(recipe)
    if args.adapter:
        model = trained_model_config(args.adapter, model)
    config = tcg_config(recipe)
    items = [(p, p.reference) for p in problems if p.reference]
    if len(items) < len(problems):
        print(f"{len(problems) - len(items)} problems have no reference solution: skipped", file=sys.stderr)
    generator = build_generator(model)
    with tqdm(total=len(items), desc="tcg generate", unit="problem", file=sys.stderr) as bar:
        return generate_tests(generator, items, config, sampling_config(recipe), progress=bar.update)


def _cmd_generate(args) -> int:
    recipe = _recipe(args)
    generated = _generate(args, recipe, _problems(args))
    path = Path(args.out) if args.out else _out(argparse.Namespace(out=None, runs_dir=args.runs_dir),
                                                "generate") / "tests.jsonl"
    _write_jsonl(path, (g.to_dict() for g in generated))
    tests, dropped = sum(len(g.tests) for g in generated), sum(g.dropped for g in generated)
    print(f"{tests} test cases for {len(generated)} problems ({dropped} malformed or duplicate cases dropped) "
          f"-> {path}")
    return 0


def _cmd_eval(args) -> int:
    from o1coder.tcg.evaluate import evaluate_tests
    from o1coder.tcg.generate import GeneratedTests

    if args.adapter and args.tests:
        raise ValueError("give --adapter (generate now) or --tests (a `tcg generate` file), not both")
    recipe, problems = _recipe(args), _problems(args)
    if args.tests:
        lines = Path(args.tests).read_text(encoding="utf-8").splitlines()
        generated = [GeneratedTests.from_dict(json.loads(line)) for line in lines if line.strip()]
    else:
        generated = _generate(args, recipe, problems)
    by_id = {g.problem_id: g.tests for g in generated}
    with _sandbox(recipe, args) as sandbox:
        report = evaluate_tests(problems, by_id, sandbox, max_mutants=args.max_mutants)
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(report.to_dict(), indent=2) + "\n")
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.summary_lines()))
    return 0
