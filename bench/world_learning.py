"""Does the tiny policy learn the synthetic world on a CPU, and is there room left for search? One run measures:

1. **warm start**: the seconds :func:`o1coder.training.world_policy.build_world_policy` takes with the spec of the
   ``tiny-world`` model (tokenizer on the world's text, model init, SFT on the traces), built afresh in a
   temporary models folder (``--policy DIR`` measures an existing build instead);
2. **held-out Pass@1** on ``synthetic:eval`` (compositions never seen in training), one whole trace per problem,
   greedy and sampled, each with a 95% Wilson interval; the baseline is the same model before the warm start
   (the random initialisation with the world tokenizer), measured on the same problems;
3. **MCTS vs best-of-N at equal generated tokens** (``o1coder eval --compare-budgets`` on the same policy and
   problems; ``--budget-set search.stop_after_passing=1`` makes both stop at their first answer that passes the
   public tests): best-of-N is the baseline, the difference in points at each matched budget is printed;
4. **TCG validity and mutant kill rate after SFT (the baseline) and after DPO**, trained on world training
   problems and evaluated on held-out ones.

    python bench/world_learning.py [--eval-seed 7] [--eval-n 200] [--budget-problems 60] [--sweep 8,16,24]
                                   [--tcg-train 1000] [--tcg-pairs shuffled|corrected|both] [--tcg-set KEY=VALUE]
                                   [--budget-set KEY=VALUE ...]

The default sweep reaches about 4,000 generated tokens per problem: best-of-N levels off from 8 answers on while MCTS
keeps climbing with its rollouts, so the gap is widest there (README, the tiny-world section); ``--sweep 2,4,8``
measures the small budgets.

The targets of issue 13 (2-core CPU): warm start under 5 minutes, held-out Pass@1 between 5% and 60%, MCTS at
least 10 points above best-of-N at equal tokens, TCG validity after DPO at least as high as after SFT. Use seeds
the recipe was not tuned on (the spec trains on world seed 0; the default evaluation seed here is 7). Everything is
written under a temporary folder; nothing goes into the checkout.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# The tiny-world recipe as it is (what `o1coder eval --compare-budgets --recipe tiny-world` runs): neither stops early.
# With `--budget-set search.stop_after_passing=1` both stop at their first answer that passes the public tests
# (best-of-N then draws k answers at a time: o1coder.search.baselines.run_best_of_n).
BUDGET_OVERRIDES: list[str] = []

# The TCG section's defaults (README, "Corrected pairs"): SFT on 1,000 training problems, then DPO on pairs built
# from the SFT model's own answers (2 per problem on the first 500 problems) against the reference's outputs. The
# paper's pairs (true outputs against shuffled ones, `--tcg-pairs shuffled`) left DPO within the noise of SFT in
# eight models, and from SFT on 200 problems corrected pairs broke the format: the defaults are the setting where DPO
# kept up with SFT on the seeds measured.
TCG_OVERRIDES = ["tcg.corrected_samples=2"]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--policy", help="an existing tiny-world build to measure (default: build one afresh, timed)")
    p.add_argument("--eval-seed", type=int, default=7, help="seed of the held-out problems (default 7)")
    p.add_argument("--eval-n", type=int, default=200, help="held-out problems for Pass@1 (default 200; 0 skips)")
    p.add_argument("--temperature", type=float, default=0.8, help="sampled Pass@1 temperature (default 0.8)")
    p.add_argument("--budget-problems", type=int, default=60, help="held-out problems for MCTS vs best-of-N "
                                                                   "(default 60; 0 skips)")
    p.add_argument("--sweep", default="8,16,24", help="MCTS rollouts and best-of-N answers swept (default 8,16,24)")
    p.add_argument("--budget-set", action="append", default=None, metavar="KEY=VALUE",
                   help="recipe overrides for the MCTS vs best-of-N section (repeatable; default: none, the "
                        "tiny-world recipe as it is)")
    p.add_argument("--tcg-train", type=int, default=1000, help="world training problems for the TCG's SFT "
                                                               "(default 1,000; 0 skips)")
    p.add_argument("--tcg-eval", type=int, default=200, help="held-out problems the TCG is judged on (default 200)")
    p.add_argument("--tcg-pairs", choices=("shuffled", "corrected", "both"), default="corrected",
                   help="where the TCG's DPO pairs come from (default corrected; README, 'Corrected pairs')")
    p.add_argument("--tcg-pair-problems", type=int, default=500,
                   help="DPO pairs from the first N TCG training problems only (default 500; 0: all)")
    p.add_argument("--tcg-set", action="append", default=None, metavar="KEY=VALUE",
                   help="recipe overrides for the TCG section (repeatable; default: "
                        f"{' '.join(TCG_OVERRIDES)})")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: fastest on a shared CPU)")
    p.add_argument("-v", "--verbose", action="store_true",
                   help="keep the libraries' own progress bars and info messages (default: quiet, as the CLI)")
    return p.parse_args(argv)


def warm_start(args, workdir: Path) -> tuple[Path, float]:
    from o1coder.training.world_policy import WORLD_POLICY, build_info, build_world_policy

    if args.policy:
        info = build_info(args.policy)
        if info is None:
            raise SystemExit(f"--policy {args.policy}: not a finished tiny-world build (no marker)")
        return Path(args.policy), float(info["seconds"])
    start = time.monotonic()
    folder = build_world_policy(workdir / "models" / "tiny-world", WORLD_POLICY, force=True)
    return folder, time.monotonic() - start


def untrained_baseline(workdir: Path) -> Path:
    """The tiny-world model before its warm start: the same tokenizer and shape, random weights."""
    from o1coder.models.tiny import build_tiny_model
    from o1coder.training.world_policy import WORLD_POLICY, tokenizer_corpus, warm_start_rows, world_training_problems

    rows = warm_start_rows(world_training_problems(WORLD_POLICY), WORLD_POLICY.vanilla_share)
    return build_tiny_model(workdir / "models" / "tiny-world-untrained", texts=tokenizer_corpus(rows),
                            vocab_size=WORLD_POLICY.vocab_size, shape=WORLD_POLICY.shape)


def held_out_pass_at_1(policy: Path, baseline: Path, problems, sandbox, temperature: float) -> dict[str, object]:
    from o1coder.evaluation.traces import evaluate_traces
    from o1coder.models import SamplingParams
    from o1coder.models.transformers_backend import TransformersGenerator

    results = {}
    for name, folder, params in (
        ("untrained (baseline), greedy", baseline, SamplingParams(temperature=0.0, max_new_tokens=160, seed=0)),
        ("warm-started, greedy", policy, SamplingParams(temperature=0.0, max_new_tokens=640, seed=0)),
        (f"warm-started, T={temperature}", policy, SamplingParams(temperature=temperature, max_new_tokens=640,
                                                                   seed=0)),
    ):
        generator = TransformersGenerator.from_pretrained(str(folder), max_batch_size=32)
        start = time.monotonic()
        results[name] = (evaluate_traces(generator, problems, sandbox, params), time.monotonic() - start)
    return results


def budget_comparison(policy: Path, spec: str, limit: int, sweep: list[int], workdir: Path, overrides: list[str]):
    from o1coder.config import apply_overrides, load_recipe
    from o1coder.evaluation.config import eval_config
    from o1coder.evaluation.record import run_budget

    recipe = apply_overrides(load_recipe("tiny-world"), [f"model.name_or_path={policy}", *overrides])
    config = eval_config(recipe)
    config.budget.algorithms = ["mcts", "best_of_n"]
    config.budget.mcts_rollouts = config.budget.best_of_n_samples = sweep
    _, comparison, _ = run_budget(recipe, spec, config=config, limit=limit, runs_dir=workdir / "runs")
    return comparison


def tcg_validity(policy: Path, train, held_out, workdir: Path, sandbox, pairs: str | None = None,
                 overrides: list[str] | None = None, pair_problems: int | None = None) -> dict[str, object]:
    from o1coder.config import ModelConfig, apply_overrides, load_recipe, sampling_config
    from o1coder.models import build_generator
    from o1coder.tcg import evaluate_tests, generate_tests, sft_rows, tcg_config
    from o1coder.tcg.corrected import training_pairs
    from o1coder.tcg.train import train_dpo, train_sft, trained_model_config

    overrides = [f"model.name_or_path={policy}", *([f"tcg.dpo_pairs={pairs}"] if pairs else []), *(overrides or [])]
    recipe = apply_overrides(load_recipe("tiny-world"), overrides)
    config, model = tcg_config(recipe), ModelConfig.from_dict(recipe["model"])
    rows, _ = sft_rows(train, config)
    sft = train_sft(rows, model, config, workdir / "tcg" / "sft")
    rows, report = training_pairs(train[:pair_problems], config, sandbox=sandbox, sft_dir=sft.output_dir,
                                  model_config=model, params=sampling_config(recipe))
    print(f"   DPO pairs ({config.dpo_pairs}): {len(rows)} from {report.problems} problems", flush=True)
    dpo = train_dpo(rows, model, config, workdir / "tcg" / "dpo", sft_dir=sft.output_dir)
    results = {}
    items = [(p, p.reference) for p in held_out]
    for name, trained in (("after SFT (baseline)", sft.output_dir), ("after DPO", dpo.output_dir)):
        generator = build_generator(trained_model_config(trained, model))
        generated = generate_tests(generator, items, config, sampling_config(recipe))
        results[name] = evaluate_tests(held_out, {g.problem_id: g.tests for g in generated}, sandbox)
    return results


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.verbose:
        from o1coder.console import quiet_libraries

        quiet_libraries()  # the TCG section's dataset maps and trainers would print a bar each
    import torch

    torch.set_num_threads(args.threads)
    from o1coder.execution import Sandbox
    from o1coder.problems import load_problems
    from o1coder.training.world_policy import build_info

    workdir = Path(tempfile.mkdtemp(prefix="o1coder-world-bench-"))
    os.environ["O1CODER_RUNS_DIR"] = str(workdir / "runs")
    os.environ["O1CODER_MODELS_DIR"] = str(workdir / "models")
    print(f"world learning bench (torch threads {args.threads}, {os.cpu_count()} CPUs); work folder {workdir}")

    policy, seconds = warm_start(args, workdir)
    info = build_info(policy)
    cpu = info.get("cpu_seconds", float("nan"))
    print(f"\n1. warm start: {seconds:.0f} s wall ({seconds / 60:.1f} min; target < 5 min), {cpu:.0f} s of CPU; "
          f"{info['steps']} steps, loss {info['first_loss']:.2f} -> {info['last_loss']:.2f} -> {policy}")

    problems = load_problems("synthetic", split="eval", n=max(args.eval_n, args.tcg_eval), seed=args.eval_seed)
    with Sandbox(workers=2) as sandbox:
        if args.eval_n:
            print(f"\n2. held-out Pass@1, one whole trace per problem, {args.eval_n} synthetic:eval problems "
                  f"(seed {args.eval_seed})")
            results = held_out_pass_at_1(policy, untrained_baseline(workdir), problems[: args.eval_n], sandbox,
                                         args.temperature)
            for name, (evaluation, took) in results.items():
                low, high = evaluation.interval()
                print(f"   {name:<32} Pass@1 {100 * evaluation.pass_at_1:5.1f}% (95% CI {100 * low:.1f}-"
                      f"{100 * high:.1f}), {evaluation.solved}/{evaluation.problems} solved, steps parsed "
                      f"{100 * evaluation.step_parse_rate:.0f}%, {evaluation.mean_tokens:.0f} tokens/answer, "
                      f"{took:.0f} s")
            greedy = results["warm-started, greedy"][0].pass_at_1
            baseline = results["untrained (baseline), greedy"][0].pass_at_1
            print(f"   warm start vs baseline: {100 * (greedy - baseline):+.1f} points (target: 5% <= Pass@1 <= 60%)")

        if args.budget_problems:
            spec = f"synthetic:eval,n={args.budget_problems},seed={args.eval_seed}"
            print(f"\n3. MCTS vs best-of-N (baseline) at equal generated tokens, {args.budget_problems} problems "
                  f"({spec})")
            start = time.monotonic()
            sweep = [int(v) for v in args.sweep.split(",")]
            overrides = BUDGET_OVERRIDES if args.budget_set is None else args.budget_set
            print(f"   tiny-world recipe with {', '.join(overrides) or 'no overrides'}")
            comparison = budget_comparison(policy, spec, args.budget_problems, sweep, workdir, overrides)
            print("   " + comparison.to_markdown().replace("\n", "\n   "))
            for target in sorted({r["target"] for r in comparison.rows}):
                by = {r["algorithm"]: r for r in comparison.rows if r["target"] == target}
                mcts, bon = by["mcts"], by["best_of_n"]
                print(f"   at {target:.0f} tokens/problem: MCTS {100 * mcts['pass@1']:.1f}% vs best-of-N "
                      f"{100 * bon['pass@1']:.1f}% ({100 * (mcts['pass@1'] - bon['pass@1']):+.1f} points; matched: "
                      f"{mcts['matched'] and bon['matched']})")
            print(f"   ({time.monotonic() - start:.0f} s)")

        if args.tcg_train:
            train = load_problems("synthetic", split="train", n=args.tcg_train, seed=args.eval_seed + 1)
            held_out = problems[: args.tcg_eval]
            print(f"\n4. TCG (SFT then DPO) on {len(train)} world training problems, judged on {len(held_out)} "
                  "held-out ones")
            start = time.monotonic()
            tcg = tcg_validity(policy, train, held_out, workdir, sandbox, args.tcg_pairs,
                               TCG_OVERRIDES if args.tcg_set is None else args.tcg_set, args.tcg_pair_problems or None)
            for name, report in tcg.items():
                kill = "-" if report.kill_rate is None else f"{100 * report.kill_rate:.1f}%"
                validity = "-" if report.validity is None else f"{100 * report.validity:.1f}%"
                counts = report.to_dict()
                print(f"   {name:<22} validity {validity} ({counts['valid_tests']}/{counts['generated_tests']} "
                      f"generated tests pass the reference), mutant kill rate {kill}")
            sft, dpo = tcg["after SFT (baseline)"].validity, tcg["after DPO"].validity
            if sft is not None and dpo is not None:
                print(f"   DPO vs SFT validity: {100 * (dpo - sft):+.1f} points (target >= 0)")
            print(f"   ({time.monotonic() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
