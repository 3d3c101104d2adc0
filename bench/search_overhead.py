"""Search overhead with the tiny model: where MCTS wall time goes, and what batched expansion buys.

1. **Overhead share**: the share of search wall time spent outside generation and execution (selection, parsing,
   bookkeeping, observer calls, and the run store's writes when ``--runs-dir`` is given and ``o1coder.runs`` is
   installed; otherwise the NullObserver). Target: under 10%. Baseline named in the output: generation + execution
   time of the same searches. Measured twice:
   - ``tiny``: the tiny model as it is. It is untrained, so nearly every step is dead and trees stay one level deep.
   - ``tiny+replay``: the tiny model still generates every sample (same token counts and generation cost), but
     each sample's text is replaced by a step of the problem's bundled reasoning trace (the next reference step, a
     jump to the reference code, wrong code, or junk, chosen by the call's seed). Trees then grow to full depth with
     real parsing, code execution and backpropagation: the bookkeeping a trained policy causes.
2. **Batched expansion**: wall time of one expansion as one call ``generate([prompt], n=k)`` against the baseline
   of k calls ``generate([prompt], n=1)``, on the root prompts of the same problems.

    python bench/search_overhead.py [--problems 3] [--rollouts 8] [--k 3] [--repeat 3] [--runs-dir DIR]

Prints both figures with the baseline named.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from o1coder.bundled import load_bundled, trace_of  # noqa: E402
from o1coder.config import load_recipe, model_config, sampling_config  # noqa: E402
from o1coder.execution import Sandbox  # noqa: E402
from o1coder.models import Completion, build_generator  # noqa: E402
from o1coder.reasoning import END_OF_STEP, Action, Step, pseudocode_prompt, render  # noqa: E402
from o1coder.search import NullObserver, search, search_config  # noqa: E402
from o1coder.search.scripted import steps_in_prompt  # noqa: E402


class ReplayGenerator:
    """The tiny model generates (real cost); the text returned is a step of the problem's reference trace."""

    def __init__(self, inner, problem):
        self.inner, self.problem, self.usage = inner, problem, inner.usage
        self.trace = trace_of(problem)
        self.replace_seconds = 0.0  # counted as overhead, not generation: the comparison stays conservative

    def generate(self, prompts, params=None, n=1):
        results = self.inner.generate(prompts, params, n)
        start = time.perf_counter()
        replaced = [[self._replace(prompt, c, (params.seed or 0) + i) for i, c in enumerate(samples)]
                    for prompt, samples in zip(prompts, results)]
        self.replace_seconds += time.perf_counter() - start
        return replaced

    def _replace(self, prompt, completion: Completion, seed: int) -> Completion:
        done = len(steps_in_prompt(prompt))
        roll = random.Random(seed).random()
        reference = self.trace[min(done, len(self.trace) - 1)]
        if roll < 0.5:
            step = dataclasses.replace(reference, title=f"{reference.title} #{seed % 3}")
        elif roll < 0.7:
            step = self.trace[-1]
        elif roll < 0.85:
            name = self.problem.entry_point
            wrong = f"def {name}(*args):\n    return None" if name else "print(0)"
            step = Step(Action.CODE, "Wrong code", "A guess.", code=wrong)
        else:
            return dataclasses.replace(completion, text="junk that is no step", finish_reason="stop")
        text = render(step).removesuffix(END_OF_STEP)
        return dataclasses.replace(completion, text=text, finish_reason="stop")


class Recording:
    """The observer a search reports to, with the run store's per-problem start and finish when there is one."""

    def __init__(self, runs_dir: str | None, recipe: dict, problems):
        self.store = None
        self.observer = NullObserver()
        if runs_dir is None:
            self.described = "NullObserver (no --runs-dir given)"
            return
        try:
            from o1coder.runs import RunStore, StoreObserver
            from o1coder.runs.driver import problem_metrics, result_record
        except ImportError:
            self.described = "NullObserver (o1coder.runs is not installed)"
            return
        self.store = RunStore(runs_dir)
        self.run_id = self.store.create_run(recipe, problems, problem_spec="bundled")
        self.observer = StoreObserver(self.store, self.run_id)
        self._record = lambda result: (result_record(result), problem_metrics(result))
        self.described = f"o1coder.runs StoreObserver (SQLite in {runs_dir}, run {self.run_id})"

    def start(self, problem) -> None:
        if self.store is not None:
            self.store.start_problem(self.run_id, problem.id)

    def finish(self, result) -> None:
        if self.store is not None:
            record, metrics = self._record(result)
            self.observer.finish(result.tree, record, metrics=metrics)

    def close(self) -> None:
        if self.store is not None:
            self.store.set_status(self.run_id, "finished")
            self.store.close()


def overhead(generator, sandbox, problems, config, sampling, runs_dir, recipe, replay: bool) -> dict:
    recording = Recording(runs_dir, recipe, problems)
    totals = {"wall": 0.0, "generation": 0.0, "execution": 0.0, "observer": 0.0, "nodes": 0, "depth": 0,
              "executions": 0, "calls": 0, "rollouts": 0, "observer_described": recording.described}
    for problem in problems:
        g = ReplayGenerator(generator, problem) if replay else generator
        start = time.perf_counter()
        recording.start(problem)
        result = search(problem, g, sandbox, config, recording.observer, sampling)
        recording.finish(result)  # the store's start and end-of-problem writes count as overhead too
        wall = time.perf_counter() - start
        stats = result.stats
        totals["wall"] += wall
        totals["generation"] += stats["generation_seconds"] - getattr(g, "replace_seconds", 0.0)
        totals["execution"] += stats["execution_seconds"]
        totals["observer"] += stats["observer_seconds"] + (wall - stats["wall_seconds"])
        totals["nodes"] += stats["nodes"]
        totals["depth"] = max(totals["depth"], stats["max_depth_reached"])
        totals["executions"] += stats["programs_executed"]
        totals["calls"] += stats["generator_calls"]
        totals["rollouts"] += stats["rollouts"]
    recording.close()
    totals["share"] = (totals["wall"] - totals["generation"] - totals["execution"]) / totals["wall"]
    return totals


def batched_vs_per_child(generator, problems, params, k: int, repeat: int) -> tuple[float, float]:
    """Seconds per expansion: one call with n=k, and k calls with n=1 (the baseline)."""
    prompts = [pseudocode_prompt(p) for p in problems]
    generator.generate(prompts[:1], params, n=k)  # warm-up
    batched = per_child = 0.0
    for r in range(repeat):
        for i, prompt in enumerate(prompts):
            seed = 1000 * r + i
            start = time.perf_counter()
            generator.generate([prompt], dataclasses.replace(params, seed=seed), n=k)
            batched += time.perf_counter() - start
            start = time.perf_counter()
            for j in range(k):
                generator.generate([prompt], dataclasses.replace(params, seed=seed * k + j), n=1)
            per_child += time.perf_counter() - start
    count = repeat * len(prompts)
    return batched / count, per_child / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=3, help="bundled problems searched (default 3)")
    parser.add_argument("--rollouts", type=int, default=8, help="MCTS rollouts per problem (tiny-cpu: 8)")
    parser.add_argument("--k", type=int, default=3, help="samples per expansion (default 3)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the expansion timing")
    parser.add_argument("--runs-dir", default=None, help="record searches in this run store (o1coder.runs)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1, as in the tests)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    recipe = load_recipe("tiny-cpu")
    generator = build_generator(model_config(recipe))
    sampling = sampling_config(recipe)
    config = dataclasses.replace(search_config(recipe), rollouts=args.rollouts, k=args.k)
    problems = [p for p in load_bundled() if p.entry_point][: args.problems]
    print(f"tiny-cpu recipe, {len(problems)} bundled problems, {config.rollouts} rollouts, k={config.k}, "
          f"max_depth={config.max_depth}, {args.threads} torch thread(s), sandbox workers=2")

    runs_dir = args.runs_dir
    with Sandbox(workers=2) as sandbox:
        search(problems[0], generator, sandbox, dataclasses.replace(config, rollouts=1), sampling=sampling)  # warm
        print("\n1. Share of search wall time outside generation and execution (target < 10%)")
        for replay in (False, True):
            t = overhead(generator, sandbox, problems, config, sampling, runs_dir, recipe, replay)
            name = "tiny+replay" if replay else "tiny"
            outside = t["wall"] - t["generation"] - t["execution"]
            print(f"   {name:12s} wall {t['wall']:.2f} s = generation {t['generation']:.2f} s + execution "
                  f"{t['execution']:.2f} s (baseline) + outside {outside:.3f} s -> {100 * t['share']:.1f}% outside "
                  f"({1000 * outside / t['rollouts']:.1f} ms per rollout; observer/store {t['observer']:.3f} s; "
                  f"{t['nodes']} nodes, depth {t['depth']}, {t['calls']} generator calls, {t['executions']} programs)")
        print(f"   observer: {t['observer_described']}")

    params = dataclasses.replace(sampling, stop=(END_OF_STEP,))
    batched, per_child = batched_vs_per_child(generator, problems, params, config.k, args.repeat)
    print(f"\n2. One expansion (k={config.k}, {params.max_new_tokens} new tokens, root prompts): batched "
          f"generate(n={config.k}) {1000 * batched:.0f} ms vs baseline {config.k} x generate(n=1) "
          f"{1000 * per_child:.0f} ms -> batched is {per_child / batched:.2f}x faster")


if __name__ == "__main__":
    main()
