"""Search throughput with many trees in flight (``search.concurrency``): expansions/s and generated tokens/s.

The same problems are searched by MCTS at each concurrency (1, 4, 8, 16 by default) with the tiny model on the
transformers backend and a real sandbox, in one run; the figures are printed as ratios against the named baseline,
concurrency 1 (one problem at a time, each expansion one ``generate`` call of k rows). At concurrency c the
expansions of c trees go to the model as one batched ``generate`` (up to c x k rows) and their sandbox runs overlap
the next batch. The rounds alternate between concurrencies (``--repeat`` times) and the median is reported, so a
neighbour's load on a shared machine hits every setting alike.

The tiny model is untrained: its steps never parse, so every child is dead and, since dead children are never
selected, each tree ends after its root's expansion and one re-expansion with no completed rollout. The unit of work
is therefore the expansion (one request for a node's k samples, 3 x 64 tokens here); rollouts/s is printed too and
is 0 with this model. Targets (2-core CPU): concurrency 8 >= 2.5x and 16 >= 3x the expansions/s of concurrency 1.

    python bench/search_throughput.py [--problems 16] [--rollouts 4] [--concurrency 1,4,8,16] [--repeat 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from o1coder.bundled import load_bundled  # noqa: E402
from o1coder.config import load_recipe, model_config, sampling_config  # noqa: E402
from o1coder.execution import Sandbox  # noqa: E402
from o1coder.models import build_generator  # noqa: E402
from o1coder.search import search, search_config  # noqa: E402
from o1coder.search.inflight import InFlight  # noqa: E402

TARGETS = {8: 2.5, 16: 3.0}


def measure(problems, generator, sandbox, config, sampling, concurrency: int) -> dict:
    """One pass over the problems at ``concurrency``; rates over the pass's wall time."""
    before = generator.usage.snapshot()
    scheduler = InFlight(generator, sandbox, concurrency)
    start = time.perf_counter()
    results = scheduler.map(problems, lambda p, g, s: search(p, g, s, config, sampling=sampling))
    wall = time.perf_counter() - start
    spent = generator.usage - before
    stats = scheduler.stats
    return {"wall": wall, "rollouts": sum(r.stats["rollouts"] for r in results),
            "expansions": sum(r.stats["generator_calls"] for r in results),
            "tokens": spent.completion_tokens, "batches": stats.generation_batches,
            "rows_per_batch": stats.sequences / max(stats.generation_batches, 1),
            "overlapped": stats.overlapped_seconds}


def _load() -> str:
    """The 1/5/15-minute load averages: how busy the (possibly shared) machine was."""
    return " / ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--problems", type=int, default=16, help="bundled problems searched per pass")
    parser.add_argument("--rollouts", type=int, default=4, help="MCTS rollouts per problem")
    parser.add_argument("--concurrency", default="1,4,8,16", help="comma-separated; the first is the baseline")
    parser.add_argument("--repeat", type=int, default=1, help="alternating rounds; the median is reported")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the sandbox uses the other cores)")
    parser.add_argument("--no-few-shot", action="store_true",
                        help="prompts without the few-shot examples (~150 instead of ~1,500 tokens)")
    args = parser.parse_args()
    levels = [int(c) for c in args.concurrency.split(",")]
    torch.set_num_threads(args.threads)

    recipe = load_recipe("tiny-cpu")
    # rows per forward pass: room for every tree's k samples, so a batch is never split for lack of space
    model = dataclasses.replace(model_config(recipe), max_batch_size=max(levels) * 3)
    generator = build_generator(model)
    config = dataclasses.replace(search_config(recipe), rollouts=args.rollouts, concurrency=None,
                                 few_shot=not args.no_few_shot)
    sampling = sampling_config(recipe)
    problems = load_bundled()[: args.problems]
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores ({platform.processor() or 'cpu'}), torch "
          f"{torch.__version__} on {args.threads} thread(s); the machine may be shared with other work "
          f"(load average {_load()} at the start)")
    print(f"workload: {len(problems)} bundled problems x {args.rollouts} MCTS rollouts, k={config.k}, tiny model, "
          f"max_new_tokens={sampling.max_new_tokens}, max_batch_size={model.max_batch_size}, few-shot prompts "
          f"{'off' if args.no_few_shot else 'on'}; {args.repeat} "
          "alternating round(s), median")
    runs: dict[int, list[dict]] = {c: [] for c in levels}
    with Sandbox(workers=max(1, (os.cpu_count() or 2) - args.threads)) as sandbox:
        measure(problems[:2], generator, sandbox, config, sampling, 2)  # warm-up: first-call costs out of the way
        for _ in range(args.repeat):
            for c in levels:
                runs[c].append(measure(problems, generator, sandbox, config, sampling, c))
    median = {c: {key: statistics.median(r[key] for r in rs) for key in rs[0]} for c, rs in runs.items()}
    base = median[levels[0]]
    base_expansions, base_tokens = base["expansions"] / base["wall"], base["tokens"] / base["wall"]
    print(f"\nbaseline: concurrency {levels[0]}\n")
    print("| concurrency | wall s | expansions/s | x baseline | rollouts/s | tokens/s | x baseline | rows/batch "
          "| exec overlapped s |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ok = True
    for c in levels:
        m = median[c]
        expansions, tokens = m["expansions"] / m["wall"], m["tokens"] / m["wall"]
        ratio = expansions / base_expansions
        print(f"| {c} | {m['wall']:.1f} | {expansions:.2f} | {ratio:.2f}x | {m['rollouts'] / m['wall']:.2f} "
              f"| {tokens:.0f} | {tokens / base_tokens:.2f}x | {m['rows_per_batch']:.1f} | {m['overlapped']:.2f} |")
        if c in TARGETS and ratio < TARGETS[c]:
            ok = False
    targets = ", ".join(f"{c}: >= {t}x" for c, t in TARGETS.items() if c in median)
    print(f"\nload average {_load()} at the end")
    print(f"targets (expansions/s vs concurrency {levels[0]}): {targets} -> {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
