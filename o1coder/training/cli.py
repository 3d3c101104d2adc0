"""``o1coder sft``, ``o1coder rl``, ``o1coder loop`` and ``o1coder demo``: thin wrappers over the library.

Registered in :mod:`o1coder.cli` by :func:`add_training_parsers`. Every verb reads a recipe (``--recipe``,
``--set section.key=value``); ``sft`` and ``rl`` write a policy checkpoint to ``--out`` (default: a new folder under
``<runs dir>/policy/``), ``loop`` and ``demo`` record everything in the run store.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from o1coder.cliargs import add_common_args, recipe_from_args

DPO_PAIRS_FILE = "dpo_pairs.jsonl"  # beside the new policy: what `o1coder rl` trained on


def add_training_parsers(sub) -> None:
    """Add the ``sft``, ``rl``, ``loop``, ``demo`` and ``warm-start`` verbs to the ``o1coder`` sub-command parser ``sub``."""

    def common(p, problems_help: str):
        add_common_args(p, set_example="training.sft.max_steps=10")
        p.add_argument("--run", action="append", default=[], metavar="RUN", help=problems_help)
        p.add_argument("--model", help="the policy to start from: a checkpoint folder (default: model.name_or_path)")
        p.add_argument("--out", help="output folder of the new policy (default: <runs dir>/policy/<verb>-TIME)")
        p.add_argument("--limit", type=int, help="only the first N problems of --problems / --traces")

    s = sub.add_parser("sft", help="policy SFT on D+ of search runs and/or stored reasoning traces",
                       description="Supervised fine-tuning of the policy (question -> steps + code, loss on the "
                       "response only) on TRL's SFTTrainer. Data: the passing paths (D+) of --run search runs "
                       "and/or the stored traces of --traces problems.")
    common(s, "a search run whose D+ rows train the policy (repeatable; 'latest' works)")
    s.add_argument("--traces", metavar="SPEC", help="train on these problems' stored traces, e.g. bundled:train")
    s.set_defaults(func=_cmd_sft)
    __import__("o1coder.scale.launch", fromlist=["add_accelerate_option"]).add_accelerate_option(s)  # multi-GPU

    r = sub.add_parser("rl", help="one round of iterative DPO or GRPO with rewards through phi",
                       description="DPO: pairs ranked by phi(R, r) from the --run trees, fresh samples and stored "
                       "traces (training.pair_sources); GRPO: TRL's GRPOTrainer with reward phi on --problems. R "
                       "runs the final code on the search's reward tests; r comes from --prm (else r = []).")
    common(r, "a search run whose trees give DPO candidates (repeatable)")
    r.add_argument("--method", choices=("dpo", "grpo"), help="default: training.method")
    r.add_argument("--problems", metavar="SPEC", help="problems to sample for (default: the --run problems, else "
                                                      "bundled:train)")
    r.add_argument("--prm", help="a trained PRM folder (`o1coder prm train`) for the process rewards")
    r.add_argument("--tcg", metavar="DIR", help="a trained TCG (`o1coder tcg sft|dpo`): R runs the final code on its "
                   "tests (needs search.reward_tests=generated)")
    r.add_argument("--round", type=int, default=0, help="round t of alpha(t) (default 0)")
    r.set_defaults(func=_cmd_rl)
    __import__("o1coder.scale.launch", fromlist=["add_accelerate_option"]).add_accelerate_option(r)  # multi-GPU

    lp = sub.add_parser("loop", help="self-play rounds: search -> data -> PRM -> policy -> evaluation",
                        description="Round after round: search the training problems with the current policy, "
                        "merge the trees, train the PRM, update the policy (SFT in round 0, then DPO or GRPO), "
                        "evaluate on held-out problems. Everything goes to the run store; --resume RUN continues "
                        "a stopped or killed loop at its unfinished stage.")
    add_common_args(lp, recipe_default=None, set_example="loop.rounds=3",
                    recipe_help="preset name or YAML file (default tiny-cpu; not needed with --resume)")
    lp.add_argument("--rounds", type=int, help="number of rounds (default: loop.rounds)")
    lp.add_argument("--resume", metavar="RUN", help="continue this loop run (its recorded recipe is used)")
    lp.add_argument("--workers", type=int, help="sandbox workers (default: execution.workers, else one per core)")
    lp.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                    help="search on Ray actors (pip install 'o1coder[scale]'): alone, a Ray cluster on this machine; "
                    "with ADDRESS ('auto', 'ray://HOST:10001'), that one (sets loop.ray)")
    lp.add_argument("--actors", type=int, help="with --ray: search actors (default: as many as the cluster holds)")
    lp.add_argument("--accelerate-config", metavar="FILE",
                    help="train every stage under `accelerate launch` with this config (a YAML file or a preset "
                    "such as ddp-8gpu; sets loop.accelerate_config); the loop itself stays one process")
    lp.add_argument("--tcg", metavar="DIR", help="a trained TCG (`o1coder tcg sft|dpo`) whose tests reward every "
                    "search and the RL outcome (search.reward_tests=generated; or let the loop train one: loop.tcg)")
    lp.add_argument("--allow-contamination", action="store_true",
                    help="evaluate even problems the policy's lineage trained on (by default an error naming them)")
    lp.set_defaults(func=_cmd_loop)

    d = sub.add_parser("demo", help="the offline showcase: a tiny policy learns the synthetic world by self-play",
                       description="The method as a miniature replication: a tiny model on the synthetic world, "
                       "evaluated untrained (a first search tree within seconds), after a short warm start and "
                       "after each self-play round (MCTS, PRM, SFT on D+, DPO), with Pass@1 and its 95 percent "
                       "interval on held-out problems. Offline, on a CPU. Watch it with `make app` (Metrics page of "
                       "the loop run: the learning curve).")
    add_common_args(d, recipe=False)
    d.add_argument("--seed", type=int, default=0,
                   help="every seed: world problems, initial weights, sampling, search, training (default 0)")
    d.add_argument("--problems", choices=("synthetic", "bundled"), default="synthetic",
                   help="synthetic: the generated world (default); bundled: the 44 hand-written problems (harder)")
    d.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a value of the demo's recipe, e.g. --set loop.rounds=3 (repeatable)")
    d.set_defaults(func=_cmd_demo)

    w = sub.add_parser("warm-start", help="build the tiny-world policy: the tiny model warm-started on the world",
                       description="Trains a tokenizer on the synthetic world's training text, then SFT of a tiny "
                       "model on the world's reasoning traces (o1coder.training.world_policy). The result is cached "
                       "under the models folder as `tiny-world`, the model of the tiny-world recipe; every command "
                       "that names it builds it on first use, this verb builds it now (a few minutes on a CPU).")
    w.add_argument("--out", help="output folder (default: the cached tiny-world under $O1CODER_MODELS_DIR)")
    w.add_argument("--force", action="store_true", help="rebuild even when a build of the same spec exists")
    w.add_argument("--steps", type=int, help="optimizer steps (default: the recipe's, see WorldPolicySpec)")
    w.set_defaults(func=_cmd_warm_start)


def _recipe(args):
    from o1coder.cliargs import recipe_from_args

    return recipe_from_args(args)


def _out(args, verb: str) -> Path:
    from o1coder.paths import runs_dir

    if args.out:
        return Path(args.out)
    return runs_dir(args.runs_dir) / "policy" / f"{verb}-{time.strftime('%Y%m%d-%H%M%S')}"


def _searched(args):
    from o1coder.runs import get_run
    from o1coder.training.data import SearchedTrees
    from o1coder.training.rounds import finished_trees

    found = []
    for run in args.run:
        info = get_run(run, args.runs_dir)
        found.append(SearchedTrees(info.id, finished_trees(info.id, args.runs_dir)))
    return found


def _run_problems(args) -> list:
    """The problems of the --run runs (their recorded specs), in order, without duplicates."""
    from o1coder.runs import get_run
    from o1coder.runs.driver import planned_problems

    seen: dict[str, object] = {}
    for run in args.run:
        for problem in planned_problems(get_run(run, args.runs_dir), args.runs_dir):
            seen.setdefault(problem.id, problem)
    return list(seen.values())


def _cmd_sft(args: argparse.Namespace) -> int:
    from o1coder.config import model_config
    from o1coder.search.config import search_config
    from o1coder.training import d_plus_rows, trace_rows, train_sft, training_config
    from o1coder.training.data import in_chat_form
    from o1coder.training.rounds import resolve

    if not args.run and not args.traces:
        raise ValueError("give the data: --run RUN (D+ of a search run) and/or --traces SPEC (stored traces)")
    recipe = _recipe(args)
    problems = _run_problems(args) if args.run else []
    rows = d_plus_rows(_searched(args), problems) if args.run else []
    if args.traces:
        traced = resolve(args.traces, args.limit)
        rows += trace_rows(traced)
        problems = [*problems, *traced]
    if not rows:
        raise ValueError("no SFT rows: the runs have no passing path (D+ is empty) and no trace was given")
    if search_config(recipe).chat:  # trained in the form it will be searched with
        rows = in_chat_form(rows, problems)
    result = train_sft(rows, args.model, _out(args, "sft"), training_config(recipe), model_config(recipe))
    print(f"sft: {len(rows)} rows, {result.metrics['steps']} steps, loss {_losses(result)}; policy saved to "
          f"{result.output_dir}")
    return 0


def _cmd_rl(args: argparse.Namespace) -> int:
    from o1coder.config import model_config
    from o1coder.execution import Sandbox
    from o1coder.guidance import load_tcg, with_guidance
    from o1coder.runs.driver import sandbox_settings
    from o1coder.search.config import search_config
    from o1coder.training import alpha_at, loop_config, reward_tests_for, training_config
    from o1coder.training.rewards import outcome_rule
    from o1coder.training.rounds import load_scorer, resolve
    from o1coder.trainkit import computed_once, share_of_cores

    recipe = _recipe(args)
    config = training_config(recipe)
    method = args.method or config.method
    if method == "none":
        raise ValueError("training.method is 'none': pass --method dpo or --method grpo")
    problems = resolve(args.problems, args.limit) if args.problems else (_run_problems(args) or
                                                                        resolve("bundled:train", args.limit))
    alpha = alpha_at(args.round, schedule=config.alpha_schedule, start=config.alpha_start, end=config.alpha_end,
                     rounds=config.alpha_rounds or loop_config(recipe).rounds)
    search = search_config(recipe)
    outcome_alpha = outcome_rule(config, search)  # the formula's alpha, or the paper's tau_pass / tau_fail
    if args.tcg and search.reward_tests != "generated":
        raise ValueError(f"--tcg {args.tcg} is given but search.reward_tests is {search.reward_tests!r}: add "
                         "--set search.reward_tests=generated, or drop --tcg")
    if search.reward_tests == "generated" and not args.tcg:
        raise ValueError("search.reward_tests=generated needs a test case generator for the RL outcome: give "
                         "--tcg DIR (a `o1coder tcg sft|dpo` output folder)")
    guided = with_guidance({**recipe, "search": {**(recipe.get("search") or {}), "algorithm": "beam"}},
                           prm=args.prm, tcg=args.tcg, require=False)  # beam: any PRM is read; checks the folders
    out = _out(args, method)
    limits, workers = sandbox_settings(recipe)

    def tests_with(sandbox):
        return reward_tests_for(search, load_tcg(args.tcg, guided, sandbox) if args.tcg else None)

    if method == "grpo":
        from o1coder.training import train_grpo

        # under accelerate every rank samples and scores its own completions: each gets its share of the cores
        # for its sandbox, and its PRM goes on its own device (o1coder.trainkit.process_device)
        with Sandbox(limits=limits, workers=share_of_cores(workers)) as sandbox:
            result = train_grpo(problems, args.model, out, config, model_config(recipe), sandbox, tests_with(sandbox),
                                alpha=alpha, outcome_alpha=outcome_alpha, scorer=load_scorer(args.prm, recipe),
                                chat=search.chat)
        reward = result.metrics["mean_reward"]
        print(f"grpo: {len(problems)} problems, {result.metrics['steps']} steps, mean phi "
              f"{'-' if reward is None else f'{reward:.3g}'}; policy saved to {result.output_dir}")
        return 0

    def pairs_of_the_main_process() -> list[dict]:  # one engine, one PRM, one sandbox: the other ranks wait
        with Sandbox(limits=limits, workers=workers) as sandbox:
            return _dpo_pairs(args, recipe, config, problems, sandbox, tests_with(sandbox),
                              load_scorer(args.prm, recipe), alpha, outcome_alpha)

    pairs = computed_once(out / DPO_PAIRS_FILE, pairs_of_the_main_process)
    if not pairs:
        raise ValueError("no preference pair: every candidate has the same phi (add 'references' to "
                         "training.pair_sources, more samples, or a --run with varied rewards)")
    from o1coder.training import train_dpo

    result = train_dpo(pairs, args.model, out, config, model_config(recipe))
    print(f"dpo: {len(pairs)} pairs (alpha {alpha:.2f}), {result.metrics['steps']} steps, loss {_losses(result)}; "
          f"policy saved to {result.output_dir}")
    return 0


def _dpo_pairs(args, recipe, config, problems, sandbox, tests_for, scorer, alpha, outcome_alpha) -> list[dict]:
    import dataclasses

    from o1coder.config import model_config
    from o1coder.models import build_generator
    from o1coder.search.config import search_config
    from o1coder.training.data import dpo_pairs

    generator = None
    if "samples" in config.pair_sources:
        source = model_config(recipe)
        generator = build_generator(dataclasses.replace(source, name_or_path=args.model) if args.model else source)
    try:
        return dpo_pairs(problems, config, sandbox, tests_for, alpha=alpha, outcome_alpha=outcome_alpha,
                         searched=_searched(args), generator=generator, scorer=scorer, round=args.round,
                         chat=search_config(recipe).chat)
    finally:
        if generator is not None:
            generator.close()


@contextmanager
def _sigterm_stops():
    """SIGTERM stops like Ctrl-C (the app stops a background demo this way): the run is marked interrupted."""
    def terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _stage_console(args: argparse.Namespace):
    """One line per stage and a bar for long ones; the libraries' own bars and messages only with ``-v``."""
    from o1coder.console import StageConsole, quiet_libraries, training_steps

    console = StageConsole()
    if getattr(args, "verbose", False):
        yield console
        return
    quiet_libraries()
    with training_steps(console):
        try:
            yield console
        finally:
            console.close_bar()


def _cmd_loop(args: argparse.Namespace) -> int:
    from o1coder.loop import run_loop

    cluster = _cluster_overrides(args)
    if args.resume and (args.recipe or args.set or args.rounds or cluster or args.tcg):
        raise ValueError("a resumed loop keeps its recorded recipe, rounds, TCG, --ray and --accelerate-config: give "
                         "only --resume RUN")
    if args.actors and not args.ray:
        raise ValueError("--actors sizes the Ray search: add --ray (or --ray ADDRESS)")
    recipe = None if args.resume else recipe_from_args(argparse.Namespace(recipe=args.recipe,
                                                                          set=[*args.set, *cluster]), "tiny-cpu")
    if recipe is not None:
        from o1coder.guidance import set_guidance

        recipe = set_guidance(recipe, tcg=args.tcg)
        if args.allow_contamination:
            recipe = {**recipe, "loop": {**(recipe.get("loop") or {}), "allow_contamination": True}}
    try:
        with _sigterm_stops(), _stage_console(args) as console:
            run_id = run_loop(recipe, rounds=args.rounds, runs_dir=args.runs_dir, resume=args.resume,
                              workers=args.workers, progress=console)
    except KeyboardInterrupt:
        print("loop interrupted; continue it with: o1coder loop --resume RUN (`o1coder runs` lists it)",
              file=sys.stderr)
        return 130
    _print_summary(run_id, args.runs_dir)
    return 0


def _cluster_overrides(args: argparse.Namespace) -> list[str]:
    """``--ray``, ``--actors`` and ``--accelerate-config`` as recipe overrides of the ``loop:`` section, so the run
    records them and a resumed loop runs the same way."""
    import json

    values = {"ray": args.ray, "ray_actors": args.actors, "accelerate_config": args.accelerate_config}
    return [f"loop.{key}={json.dumps(value)}" for key, value in values.items() if value is not None]


def _cmd_demo(args: argparse.Namespace) -> int:
    from o1coder.demo import run_demo

    try:
        with _sigterm_stops(), _stage_console(args) as console:
            report = run_demo(args.runs_dir, progress=console, seed=args.seed, problems=args.problems,
                              extra=args.set)
    except KeyboardInterrupt:
        print("demo interrupted; continue it with: o1coder loop --resume RUN (`o1coder runs` lists it)",
              file=sys.stderr)
        return 130
    print(report.describe())
    _print_summary(report.run_id, args.runs_dir)
    return 0


def _cmd_warm_start(args: argparse.Namespace) -> int:
    import dataclasses

    from o1coder.training.world_policy import WORLD_POLICY, build_info, build_world_policy

    spec = WORLD_POLICY if args.steps is None else dataclasses.replace(WORLD_POLICY, max_steps=args.steps)
    folder = build_world_policy(args.out, spec, force=args.force)
    info = build_info(folder)
    print(f"tiny-world policy in {folder}: {info['rows']} rows, {info['steps']} steps, loss "
          f"{info['first_loss']:.3g} -> {info['last_loss']:.3g}, built in {info['seconds']:.0f} s "
          f"({info['cpu_seconds']:.0f} s of CPU)")
    return 0


def _losses(result) -> str:
    first, last = result.metrics.get("first_loss"), result.metrics.get("last_loss")
    return " -> ".join("-" if x is None else f"{x:.3g}" for x in (first, last))


def _print_summary(run_id: str, runs_dir) -> None:
    from o1coder.runs import metrics

    points = metrics(run_id, "loop/pass@1", runs_dir=runs_dir)
    history = ", ".join(f"v{int(s)} {'-' if v is None or math.isnan(v) else f'{v:.1%}'}"
                        for s, v in zip(points["step"], points["value"]))
    print(f"loop {run_id} finished; Pass@1 by policy version: {history or '-'}")
    from o1coder.training.loop_metrics import curve_lines

    for line in curve_lines(run_id, runs_dir):
        print(f"  {line}")
