"""The numbers that say whether a self-play loop works, each computed by one small function the loop calls.

A learning curve is only evidence when its points carry their uncertainty and when the claims behind the method are
measured, not assumed. Per evaluation (step = policy version) and per round (step = round t), on the loop run:

- ``loop/pass@1`` with ``loop/pass@1_low`` / ``loop/pass@1_high``: the 95% Wilson score interval of the share of
  held-out problems solved (Wilson rather than the normal approximation: it stays inside [0, 1] and is honest at
  0% and 100%, where a small demo starts); ``loop/eval_problems`` (n) and ``loop/eval_passed`` (successes).
- ``loop/aspr`` with ``loop/aspr_low`` / ``loop/aspr_high`` and ``loop/aspr_problems``: ASPR
  (:mod:`o1coder.evaluation.aspr`) on the evaluation's search trees; the interval is the normal one of a mean of
  per-problem rates (ASPR averages problems, not samples), clipped to [0, 1].
- ``loop/mcts_solve_rate`` vs ``loop/best_of_n_solve_rate`` at equal tokens, with ``loop/mcts_tokens`` and
  ``loop/best_of_n_tokens`` (mean completion tokens per problem): every training problem of the round is sampled
  again by best-of-N with the current policy, capped at the tokens MCTS spent on that problem (the cap is checked
  between batches of k answers, so best-of-N may end up to one batch above it: never below by choice). When the
  search stops at its first passing paths (``search.stop_after_passing``), that cap would be unfair: MCTS spent few
  tokens exactly where it was lucky, and best-of-N would get as few there. Both then follow the same rule instead
  (:func:`best_of_n_caps`): best-of-N stops at its first passing answers too, within the most MCTS spent on a
  problem where it did not stop early; the two means are reported side by side. That common cap is generous:
  best-of-N then spends more tokens than MCTS on average (24-50% more in the demo's rounds). So the comparison at
  **equal mean tokens** is read from the same samples: ``loop/best_of_n_matched_solve_rate`` and
  ``loop/best_of_n_matched_tokens`` are best-of-N under the one common cap (:func:`matched_cap`) at which its mean
  tokens per problem come closest to MCTS's. Best-of-N's batches are the same whatever the cap (one seed per
  batch), so a lower cap only ends each problem's run earlier (:func:`outcome_at_cap`): no second run.
  ``loop/search_only_share``: of the problems where search found a path passing the reward tests (D+ problems,
  ``loop/d_plus_problems``), the share where those best-of-N samples found none: what search found that the
  policy alone did not sample.
- ``loop/prm_auc`` (and ``loop/prm_auc_steps``, ``loop/prm_pair_accuracy``): the round's PRM scored on held-out
  trees, the search trees of the latest evaluation on the held-out problems, which no PRM trained on.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

Z95 = 1.959963984540054  # the 97.5% quantile of the standard normal: two-sided 95%


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion (successes of n); (0, 1) when n is 0."""
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"successes must be in [0, n] with n >= 0; got {successes} of {n}")
    if n == 0:
        return 0.0, 1.0
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # at 0 or n successes the bound is exactly 0 or 1 (the formula leaves a rounding error of ~1e-17)
    return (0.0 if successes == 0 else max(0.0, centre - half)), (1.0 if successes == n else min(1.0, centre + half))


def mean_interval(values: Sequence[float], z: float = Z95) -> tuple[float, float]:
    """The normal interval of a mean (sample standard deviation), clipped to [0, 1]; the point itself for n = 1."""
    if not values:
        raise ValueError("mean_interval needs at least one value")
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, mean
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    half = z * sd / math.sqrt(len(values))
    return max(0.0, mean - half), min(1.0, mean + half)


def pass_at_1_points(passed: int, problems: int) -> dict[str, float | None]:
    """The loop's Pass@1 metric points of one evaluation: the share, its Wilson interval and the counts."""
    low, high = wilson_interval(passed, problems)
    return {"loop/pass@1": passed / problems if problems else None, "loop/pass@1_low": low,
            "loop/pass@1_high": high, "loop/eval_problems": problems, "loop/eval_passed": passed}


def search_run_counts(run_id: str, runs_dir: str | Path | None) -> tuple[int, int]:
    """(problems whose answer passes every hidden test, finished problems) of a search run."""
    from o1coder.runs import readers

    results = readers.problem_results(run_id, runs_dir)
    return int(results["passed"].sum()), len(results)


def aspr_points(problems, run_id: str, generator, sandbox, recipe: dict[str, Any], k: int,
                runs_dir: str | Path | None) -> dict[str, float | None]:
    """ASPR (pseudocode mode, ``k`` samples from each correct path's last pseudocode state) over the trees of the
    search run ``run_id``, with its interval."""
    from o1coder.evaluation import aspr, eval_config, hidden_tests
    from o1coder.evaluation.sampling import Sampler, decoding
    from o1coder.search.config import search_config
    from o1coder.training.rounds import finished_trees

    search = search_config(recipe)
    by_id = {p.id: p for p in problems}
    items = [(by_id[tree.problem_id], tree) for tree in finished_trees(run_id, runs_dir) if tree.problem_id in by_id]
    sampler = Sampler(generator, decoding(recipe, eval_config(recipe, modes=["pseudocode"])))
    report = aspr(items, "pseudocode", sampler, sandbox, k, hidden_fn=lambda p: hidden_tests(p, search))
    rates = [r.rate for r in report.problems if r.included]
    low, high = mean_interval(rates) if rates else (None, None)
    return {"loop/aspr": report.summary.value, "loop/aspr_low": low, "loop/aspr_high": high,
            "loop/aspr_problems": report.summary.included, "loop/aspr_excluded": report.summary.excluded}


def has_passing_path(tree) -> bool:
    """Whether a code node of the tree passed every reward test (its path is in D+)."""
    return any(node.exec is not None and node.exec.get("all_passed") for node in tree.terminals())


def equal_token_points(problems, run_id: str, generator, sandbox, recipe: dict[str, Any],
                       runs_dir: str | Path | None, max_samples: int = 64) -> tuple[dict[str, float | None], list]:
    """MCTS (the finished search run ``run_id``) against best-of-N with the same policy at the tokens MCTS spent
    on each problem (see the module docstring). Returns the metric points and one row per problem."""
    from o1coder.config import sampling_config
    from o1coder.runs import readers
    from o1coder.search import search
    from o1coder.search.config import recipe_concurrency, search_config
    from o1coder.search.inflight import InFlight

    results = readers.problem_results(run_id, runs_dir)
    by_id = {p.id: p for p in problems}
    base = search_config(recipe)
    sampling = sampling_config(recipe) if recipe.get("sampling") else None
    rows, budgets, stopped = [], [], []
    for pid, tokens, passed, stats in zip(results["problem_id"], results["completion_tokens"], results["passed"],
                                          results["stats"]):
        if pid not in by_id:
            continue
        found = has_passing_path(readers.load_tree(run_id, pid, runs_dir))
        rows.append({"problem_id": pid, "mcts_tokens": int(tokens), "mcts_solved": bool(passed), "mcts_found": found,
                     "best_of_n_tokens": 0, "best_of_n_solved": False, "best_of_n_found": False})
        budgets.append(int(tokens))
        stopped.append(isinstance(stats, dict) and stats.get("stop_reason") == "passing")
    caps = best_of_n_caps(budgets, stopped, base.stop_after_passing)
    batches = [BatchLog() for _ in rows]

    def sample(index: int, task_generator, task_sandbox):
        config = dataclasses.replace(base, algorithm="best_of_n", n_samples=max_samples,
                                     max_generated_tokens=caps[index], stop_after_passing=base.stop_after_passing)
        return search(by_id[rows[index]["problem_id"]], task_generator, task_sandbox, config,
                      observer=batches[index], sampling=sampling)

    # every problem's best-of-N in flight at once, as the search ran (batches of k answers per problem): the same
    # samples as one problem at a time at concurrency 1, and the comparison costs what the search cost
    todo = [i for i, tokens in enumerate(budgets) if tokens > 0]
    concurrency = recipe_concurrency(recipe)
    for index, result in zip(todo, InFlight(generator, sandbox, concurrency).map(todo, sample)):
        rows[index].update(best_of_n_tokens=int(result.stats["tokens"]["completion"]),
                           best_of_n_solved=result.solved, best_of_n_found=has_passing_path(result.tree),
                           best_of_n_batch_tokens=batches[index].ends,
                           best_of_n_answer_batch=batches[index].batch_of(result.best))
    return equal_token_summary(rows), rows


class BatchLog:
    """Best-of-N's batches as they finish: the completion tokens spent once each batch is done (``ends``) and the
    answers (leaf ids) each batch added. A batch's answers are generated in one call, so the rollouts it finishes
    all see the same token count."""

    def __init__(self) -> None:
        self.ends: list[int] = []
        self.leaves: list[set[int]] = []

    def node_added(self, tree, node) -> None:
        pass

    def node_updated(self, tree, node) -> None:
        pass

    def rollout_finished(self, tree, rollout: int, stats: dict) -> None:
        tokens = int(stats["completion_tokens"])
        if not self.ends or self.ends[-1] != tokens:
            self.ends.append(tokens)
            self.leaves.append(set())
        self.leaves[-1].add(stats["leaf"])

    def batch_of(self, node) -> int | None:
        """The index of the batch whose answer ``node`` is (None for no answer)."""
        if node is None:
            return None
        return next((i for i, leaves in enumerate(self.leaves) if node.id in leaves), None)


def outcome_at_cap(row: dict, cap: int) -> tuple[int, bool]:
    """(tokens, solved) of best-of-N on one problem had its common cap been ``cap`` (at most the cap it ran with).

    The cap is checked before each batch, so the batches run are those that start below it, up to where the run
    stopped. The answer is the run's own when its batch was run; when it came later, the answer at the lower cap
    is one that failed the reward tests (best-of-N stops at its first passing answers), counted unsolved. Rows
    without a batch log (older runs) keep the run's own outcome."""
    ends = row.get("best_of_n_batch_tokens") or []
    if not ends:
        return int(row["best_of_n_tokens"]), bool(row["best_of_n_solved"])
    last = 0
    for index in range(1, len(ends)):
        if ends[index - 1] >= cap:
            break
        last = index
    answer = row.get("best_of_n_answer_batch")
    return int(ends[last]), bool(row["best_of_n_solved"]) and answer is not None and answer <= last


def matched_cap(rows: Sequence[dict], target: float) -> tuple[int | None, float | None, float | None]:
    """(cap, mean tokens, solve rate) of best-of-N under the one common cap whose mean tokens per problem come
    closest to ``target`` (MCTS's mean); the larger cap on a tie, so best-of-N never gets less than its share."""
    if not rows:
        return None, None, None
    candidates = sorted({1, *(end + 1 for row in rows for end in (row.get("best_of_n_batch_tokens") or []))})
    best = None
    for cap in candidates:
        outcomes = [outcome_at_cap(row, cap) for row in rows]
        tokens = sum(t for t, _ in outcomes) / len(rows)
        key = (abs(tokens - target), -cap)
        if best is None or key < best[0]:
            best = (key, cap, tokens, sum(solved for _, solved in outcomes) / len(rows))
    return best[1], best[2], best[3]


def best_of_n_caps(mcts_tokens: Sequence[int], stopped_early: Sequence[bool], stop_after_passing: int | None
                   ) -> list[int]:
    """Best-of-N's token cap on each problem. Without an early stop, the tokens MCTS spent on that problem. With one
    (MCTS ended where it found passing paths, best-of-N will too), the most MCTS spent on a problem where it did not
    stop early, for every problem: a cap chosen from MCTS's own stopping time would hand best-of-N few tokens
    exactly where MCTS was lucky (optional stopping), which favours MCTS by construction."""
    if stop_after_passing is None:
        return [int(t) for t in mcts_tokens]
    full = [int(t) for t, early in zip(mcts_tokens, stopped_early) if not early] or [int(t) for t in mcts_tokens]
    return [max(full) if t > 0 else 0 for t in mcts_tokens]


def equal_token_summary(rows: Sequence[dict]) -> dict[str, float | None]:
    """The metric points of :func:`equal_token_points` from its per-problem rows."""
    n = len(rows)
    found = [r for r in rows if r["mcts_found"]]

    def mean(key: str) -> float | None:
        return sum(float(r[key]) for r in rows) / n if n else None

    mcts_tokens = mean("mcts_tokens")
    _, matched_tokens, matched_rate = matched_cap(rows, mcts_tokens) if n else (None, None, None)
    return {"loop/mcts_solve_rate": mean("mcts_solved"), "loop/best_of_n_solve_rate": mean("best_of_n_solved"),
            "loop/mcts_tokens": mcts_tokens, "loop/best_of_n_tokens": mean("best_of_n_tokens"),
            "loop/best_of_n_matched_solve_rate": matched_rate, "loop/best_of_n_matched_tokens": matched_tokens,
            "loop/compared_problems": n, "loop/d_plus_problems": len(found),
            "loop/search_only_share": (sum(not r["best_of_n_found"] for r in found) / len(found)) if found else None}


def prm_auc_points(prm_folder: str | Path, run_id: str, recipe: dict[str, Any],
                   runs_dir: str | Path | None) -> dict[str, float | None]:
    """The PRM in ``prm_folder`` evaluated on every tree of the search run ``run_id`` (held-out problems)."""
    from o1coder.prm.stage import evaluate_on_run

    evaluation, _ = evaluate_on_run(run_id, prm_folder, recipe, runs_dir, split="all")
    return {"loop/prm_auc": evaluation.auc, "loop/prm_auc_steps": evaluation.steps,
            "loop/prm_pair_accuracy": evaluation.pair_accuracy}


def curve_lines(run_id: str, runs_dir: str | Path | None = None) -> list[str]:
    """The learning curve as text, one line per policy version then one per round (for terminals and benches):
    ``v1  Pass@1 12.5% [8.6%, 17.8%] (25/200)  ASPR 50.0% [20.0%, 80.0%] (4 problems)``."""
    from o1coder.runs import readers

    frame = readers.metrics(run_id, runs_dir=runs_dir)
    values = {(name, int(step)): value for name, step, value in zip(frame["name"], frame["step"], frame["value"])}

    def pct(name: str, step: int) -> str:
        value = values.get((name, step))
        return "-" if value is None or math.isnan(value) else f"{value:.1%}"

    def number(name: str, step: int) -> str:
        value = values.get((name, step))
        return "-" if value is None or math.isnan(value) else f"{value:.3g}"

    lines = []
    for version in sorted(step for name, step in values if name == "loop/pass@1"):
        line = (f"v{version}  Pass@1 {pct('loop/pass@1', version)} [{pct('loop/pass@1_low', version)}, "
                f"{pct('loop/pass@1_high', version)}] ({number('loop/eval_passed', version)}/"
                f"{number('loop/eval_problems', version)})")
        if ("loop/aspr_problems", version) in values:
            line += (f"  ASPR {pct('loop/aspr', version)} [{pct('loop/aspr_low', version)}, "
                     f"{pct('loop/aspr_high', version)}] ({number('loop/aspr_problems', version)} problems)")
        lines.append(line)
    for t in sorted(step for name, step in values if name == "loop/round"):
        parts = []
        if ("loop/mcts_solve_rate", t) in values:
            parts.append(f"MCTS {pct('loop/mcts_solve_rate', t)} at {number('loop/mcts_tokens', t)} tokens vs "
                         f"best-of-N {pct('loop/best_of_n_matched_solve_rate', t)} at "
                         f"{number('loop/best_of_n_matched_tokens', t)} (equal mean tokens), "
                         f"{pct('loop/best_of_n_solve_rate', t)} at {number('loop/best_of_n_tokens', t)} (common cap), "
                         f"search-only share of D+ {pct('loop/search_only_share', t)}")
        if ("loop/prm_auc_steps", t) in values:
            parts.append(f"PRM AUC {number('loop/prm_auc', t)} ({number('loop/prm_auc_steps', t)} held-out steps)")
        if parts:
            lines.append(f"round {t}  " + "; ".join(parts))
    return lines
