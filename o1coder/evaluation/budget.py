"""MCTS vs best-of-N vs beam search at equal generated tokens: is the tree worth its tokens?

Each algorithm has one knob that sets how much it generates (MCTS rollouts, best-of-N answers, beam width; see
``KNOBS``). A sweep runs every knob value of ``evaluation.budget`` on the whole problem set and records, per run,
the mean generated (completion) tokens per problem and Pass@1 (share of problems whose final answer passes the
hidden tests). The comparison is then made at target budgets (by default the token counts the first algorithm's
sweep measured): for each target and algorithm, the run whose token count is closest is *matched* when it lies
within ``tolerance`` of the target; when none does, the knob is bisected (or extrapolated past the sweep) for up to
``max_refine`` extra runs, assuming tokens grow with the knob. Pass@1 is also interpolated linearly in tokens
between measured runs (never extrapolated), which gives the Pass@1-vs-budget curve.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from o1coder.evaluation.config import KNOBS, BudgetConfig
from o1coder.problems import Problem

logger = logging.getLogger(__name__)


@dataclass
class BudgetPoint:
    """One run of one algorithm at one knob value over the problem set."""

    algorithm: str
    knob: str
    value: int
    tokens: float  # mean completion tokens per problem
    pass_at_1: float
    solved: int
    problems: int
    executions: float  # mean programs executed per problem
    refined: bool = False  # added while matching a target (not part of the configured sweep)


@dataclass
class BudgetComparison:
    """Every run, and the matched table (one row per target and algorithm)."""

    points: list[BudgetPoint]
    rows: list[dict]
    tolerance: float
    algorithms: list[str] = field(default_factory=list)

    @property
    def all_matched(self) -> bool:
        return all(r["matched"] for r in self.rows)

    def points_frame(self):
        import pandas as pd

        return pd.DataFrame([dataclasses.asdict(p) for p in self.points])

    def table(self):
        import pandas as pd

        return pd.DataFrame(self.rows)

    def to_markdown(self) -> str:
        lines = ["| Budget (tokens/problem) | Algorithm | Knob | Tokens | Gap | Matched | Pass@1 | Pass@1 (interp.) |",
                 "|---:|---|---|---:|---:|---|---:|---:|"]
        for r in self.rows:
            interp = "–" if r["pass@1_interpolated"] is None else f"{100 * r['pass@1_interpolated']:.1f}"
            lines.append(f"| {r['target']:.0f} | {r['algorithm']} | {r['knob']}={r['value']} | {r['tokens']:.0f} | "
                         f"{100 * r['relative_gap']:+.1f}% | {'yes' if r['matched'] else 'no'} | "
                         f"{100 * r['pass@1']:.1f} | {interp} |")
        note = (f"\n\nMatched: the run's mean generated tokens per problem are within {100 * self.tolerance:.0f}% of "
                "the budget. Pass@1 on hidden tests; interpolated linearly in tokens between measured runs.\n")
        return "\n".join(lines) + note

    def to_dict(self) -> dict:
        return {"tolerance": self.tolerance, "algorithms": self.algorithms,
                "points": [dataclasses.asdict(p) for p in self.points], "rows": self.rows}


class _Runner:
    """Runs (and remembers) one algorithm at one knob value over all problems."""

    def __init__(self, problems: Sequence[Problem], generator, sandbox, recipe: Mapping[str, Any],
                 progress: Callable[[BudgetPoint], None] | None) -> None:
        from o1coder.config import sampling_config
        from o1coder.guidance import load_guidance
        from o1coder.search.config import recipe_concurrency, search_config

        self.problems, self.generator, self.sandbox, self.progress = problems, generator, sandbox, progress
        self.base = search_config(recipe)
        self.concurrency = recipe_concurrency(recipe)  # problems in flight: their generation and execution batched
        self.sampling = sampling_config(recipe) if recipe.get("sampling") else None
        self.points: dict[tuple[str, int], BudgetPoint] = {}
        self.guidance = load_guidance(recipe, sandbox)  # beam's value and PUCT's prior from the PRM, if given

    def run(self, algorithm: str, value: int, refined: bool = False) -> BudgetPoint:
        from o1coder.search import search
        from o1coder.search.inflight import InFlight

        key = (algorithm, value)
        if key in self.points:
            return self.points[key]
        knob = KNOBS[algorithm]
        config = dataclasses.replace(self.base, algorithm=algorithm, **{knob: value})
        guidance = self.guidance.search_kwargs()
        results = InFlight(self.generator, self.sandbox, self.concurrency).map(
            self.problems, lambda p, generator, sandbox: search(p, generator, sandbox, config, sampling=self.sampling,
                                                                **guidance))
        count = len(results)
        point = BudgetPoint(
            algorithm, knob, value,
            tokens=sum(r.stats["tokens"]["completion"] for r in results) / count,
            pass_at_1=sum(r.solved for r in results) / count, solved=sum(r.solved for r in results),
            problems=count, executions=sum(r.stats["programs_executed"] for r in results) / count, refined=refined)
        self.points[key] = point
        logger.info("budget %s %s=%d: %.1f tokens/problem, pass@1 %.3f", algorithm, knob, value, point.tokens,
                    point.pass_at_1)
        if self.progress:
            self.progress(point)
        return point

    def of(self, algorithm: str) -> list[BudgetPoint]:
        return sorted((p for p in self.points.values() if p.algorithm == algorithm), key=lambda p: p.value)


def compare_budgets(problems: Sequence[Problem], generator, sandbox, recipe: Mapping[str, Any],
                    config: BudgetConfig, progress: Callable[[BudgetPoint], None] | None = None) -> BudgetComparison:
    """Sweep, then match every algorithm to every target budget (see the module docstring)."""
    if not problems:
        raise ValueError("the budget comparison needs at least one problem")
    runner = _Runner(problems, generator, sandbox, recipe, progress)
    for algorithm in config.algorithms:
        for value in config.sweep(algorithm):
            runner.run(algorithm, value)
    targets = config.targets or [p.tokens for p in runner.of(config.algorithms[0])]
    targets = sorted({float(t) for t in targets if t > 0})
    if not targets:
        raise ValueError("no positive token budget to compare at: the first algorithm generated nothing; set "
                         "evaluation.budget.targets")
    rows = []
    for target in targets:
        for algorithm in config.algorithms:
            point, matched = _match(runner, algorithm, target, config)
            rows.append({"target": target, "algorithm": algorithm, "knob": point.knob, "value": point.value,
                         "tokens": point.tokens, "relative_gap": (point.tokens - target) / target,
                         "matched": matched, "pass@1": point.pass_at_1,
                         "pass@1_interpolated": interpolate(runner.of(algorithm), target)})
    points = [p for a in config.algorithms for p in runner.of(a)]
    return BudgetComparison(points, rows, config.tolerance, list(config.algorithms))


def _match(runner: _Runner, algorithm: str, target: float, config: BudgetConfig) -> tuple[BudgetPoint, bool]:
    for attempt in range(config.max_refine + 1):
        points = runner.of(algorithm)
        best = min(points, key=lambda p: (abs(p.tokens - target), p.value))
        if abs(best.tokens - target) <= config.tolerance * target:
            return best, True
        value = next_value(points, target) if attempt < config.max_refine else None
        if value is None or (algorithm, value) in runner.points:
            return best, False
        runner.run(algorithm, value, refined=True)
    return best, False  # pragma: no cover (the loop always returns)


def next_value(points: Sequence[BudgetPoint], target: float) -> int | None:
    """The knob value to try next for ``target`` tokens (points sorted by knob value, tokens assumed to grow with
    it): interpolated between the runs around the target, or extrapolated past the sweep; None when no untried
    integer is left."""
    below = [p for p in points if p.tokens <= target]
    above = [p for p in points if p.tokens >= target]
    if below and above:
        lo, hi = below[-1], next((p for p in above if p.value > below[-1].value), None)
        if hi is None or hi.value - lo.value <= 1:
            return None
        guess = lo.value + (target - lo.tokens) / max(hi.tokens - lo.tokens, 1e-9) * (hi.value - lo.value)
        return min(max(round(guess), lo.value + 1), hi.value - 1)
    if below:  # the target is above every run: grow the knob in proportion to the missing tokens
        top = points[-1]
        guess = math.ceil(top.value * target / top.tokens) if top.tokens > 0 else 2 * top.value
        return min(max(guess, top.value + 1), 4 * top.value)
    bottom = points[0]  # the target is below every run
    if bottom.value <= 1:
        return None
    return min(max(1, math.floor(bottom.value * target / bottom.tokens)), bottom.value - 1)


def interpolate(points: Sequence[BudgetPoint], target: float) -> float | None:
    """Pass@1 at ``target`` tokens, linear between the measured runs around it; None outside their range."""
    curve = sorted((p.tokens, p.pass_at_1) for p in points)
    if not curve or not curve[0][0] <= target <= curve[-1][0]:
        return None
    for (x0, y0), (x1, y1) in itertools.pairwise(curve):
        if x0 <= target <= x1:
            return y0 if x1 == x0 else y0 + (y1 - y0) * (target - x0) / (x1 - x0)
    return curve[0][1]  # a single run exactly at the target
