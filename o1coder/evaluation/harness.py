"""The Table 1 harness: each problem, in each mode, sampled n times and scored on its hidden tests; ASPR beside it.

    evaluator = Evaluator(generator, sandbox, recipe, eval_config(recipe))
    report = EvalReport(model_label(recipe, config), config.to_dict())
    for problem in problems:
        report.add(evaluator.problem(problem))
    report.summary("pseudocode")["pass@k"][1], report.metrics()

Scoring uses hidden tests only: ``problem.tests``, less the tests the search rewards on when the recipe's search uses
``reward_tests: heldout`` (so the ASPR search never saw a test it is scored on).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from o1coder.config import sampling_config
from o1coder.evaluation.aspr import ProblemAspr, problem_aspr, summarize
from o1coder.evaluation.config import EvalConfig
from o1coder.evaluation.passk import mean_pass_at_k, pass_at_k
from o1coder.evaluation.sampling import Sampler, answers_tree, decoding
from o1coder.guidance import load_guidance
from o1coder.problems import Problem, TestCase
from o1coder.search.config import SearchConfig, search_config
from o1coder.search.reward import split_tests

logger = logging.getLogger(__name__)


def hidden_tests(problem: Problem, search: SearchConfig) -> list[TestCase]:
    """The tests a problem is scored on: all of ``problem.tests`` unless the search holds some out as reward tests."""
    if search.reward_tests == "heldout":
        return list(split_tests(problem, "heldout", seed=search.seed, heldout_fraction=search.heldout_fraction).hidden)
    return list(problem.tests)


def model_label(recipe: Mapping[str, Any], config: EvalConfig) -> str:
    """Table 1's row name: ``evaluation.model_label``, else the model's name or path (with its LoRA adapter)."""
    if config.model_label:
        return config.model_label
    model = recipe.get("model") or {}
    name = str(model.get("name_or_path", "tiny"))
    return f"{name} + {model['lora_path']}" if model.get("lora_path") else name


@dataclass
class ModeResult:
    """One problem in one mode: n answers, c of them correct, pass@k, and the problem's ASPR record."""

    problem_id: str
    mode: str
    n: int
    correct: int
    pass_at: dict[int, float]
    answers: list[dict]
    tokens: int  # completion tokens of the n answers
    aspr: ProblemAspr
    aspr_search_tokens: int = 0  # completion tokens of the search that looked for a correct path
    aspr_search_executions: int = 0  # programs that search ran on its reward tests

    def to_dict(self) -> dict:
        return {**dataclasses.asdict(self), "aspr": self.aspr.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> ModeResult:
        """The result as :meth:`to_dict` stored it; JSON turned the k of ``pass_at`` into strings."""
        return cls(**{**d, "pass_at": {int(k): v for k, v in d["pass_at"].items()},
                      "aspr": ProblemAspr.from_dict(d["aspr"])})


class Evaluator:
    """Evaluates one problem at a time with one generator and sandbox (see the module docstring); many problems
    in flight each get their own Evaluator over a task generator and sandbox (:func:`o1coder.evaluation.record`)."""

    def __init__(self, generator, sandbox, recipe: Mapping[str, Any], config: EvalConfig, guidance=None) -> None:
        """``guidance``: the recipe's loaded PRM / TCG when the caller shares one across many Evaluators (loading
        a model per problem would be slow); loaded here from the recipe otherwise."""
        self.generator, self.sandbox, self.config = generator, sandbox, config
        self.search = search_config(recipe)
        # the ASPR search samples as `o1coder search` does (the recipe's sampling section, not evaluation.sampling)
        self.search_sampling = sampling_config(recipe) if recipe.get("sampling") else None
        self.sampler = Sampler(generator, decoding(recipe, config))
        self.guidance = guidance if guidance is not None else load_guidance(recipe, sandbox)  # the PRM (PUCT prior, beam value) and TCG (reward tests)

    def problem(self, problem: Problem) -> dict[str, ModeResult]:
        hidden = hidden_tests(problem, self.search)
        if not hidden:
            raise ValueError(f"problem {problem.id} has no hidden tests to score answers on")
        return {mode: self._mode(problem, mode, hidden) for mode in self.config.modes}

    def _mode(self, problem: Problem, mode: str, hidden: Sequence[TestCase]) -> ModeResult:
        config = self.config
        answers = self.sampler.answers(problem, mode, config.samples)
        jobs = [(a.program, list(hidden), problem.setup) for a in answers if a.program is not None]
        verdicts = iter(self.sandbox.run_many(jobs, cache=True) if jobs else ())
        rows = []
        for answer in answers:
            verdict = next(verdicts) if answer.program is not None else None
            rows.append({**answer.to_dict(), "passed": bool(verdict is not None and verdict.all_passed),
                         "status": "no_code" if verdict is None else verdict.status,
                         "n_passed": 0 if verdict is None else verdict.n_passed, "n_tests": len(hidden)})
        correct = sum(r["passed"] for r in rows)
        pass_at = {k: pass_at_k(config.samples, correct, k) for k in config.k}
        if config.aspr_search == "samples":
            tree, search_stats = answers_tree(problem, answers), {}
        else:
            tree, search_stats = self._search_tree(problem, mode)
        record = problem_aspr(problem, tree, mode, self.sampler, self.sandbox, config.aspr_k, hidden)
        return ModeResult(problem.id, mode, config.samples, correct, pass_at, rows, sum(a.tokens for a in answers),
                          record, int(search_stats.get("tokens", {}).get("completion", 0)),
                          int(search_stats.get("programs_executed", 0)))

    def _search_tree(self, problem: Problem, mode: str):
        """The recipe's search for pseudocode; best-of-N vanilla answers (N = n_samples or rollouts) for vanilla.
        Depth and lengths are the evaluation's, so the search writes steps and answers like the samples do."""
        from o1coder.search import search

        d = self.sampler.decoding
        config = dataclasses.replace(self.search, few_shot=d.few_shot, max_depth=d.max_depth,
                                     max_step_tokens=d.step_tokens, score_hidden=False)
        if mode == "vanilla":
            config = dataclasses.replace(config, algorithm="best_of_n", best_of_n_prompt="vanilla",
                                         n_samples=config.n_samples or config.rollouts,
                                         max_answer_tokens=d.answer_tokens)
        result = search(problem, self.generator, self.sandbox, config, sampling=self.search_sampling,
                        **self.guidance.search_kwargs())
        return result.tree, result.stats


@dataclass
class EvalReport:
    """Per-mode results of every problem evaluated so far, and the numbers Table 1 shows."""

    model: str
    config: dict
    results: dict[str, list[ModeResult]] = field(default_factory=dict)

    def add(self, per_mode: Mapping[str, ModeResult]) -> None:
        for mode, result in per_mode.items():
            self.results.setdefault(mode, []).append(result)

    @property
    def modes(self) -> list[str]:
        return list(self.results)

    def summary(self, mode: str) -> dict[str, Any]:
        """Pass@k means, ASPR (value, problems included / excluded) and mean tokens per problem for one mode."""
        results = self.results.get(mode, [])
        counts = [(r.n, r.correct) for r in results]
        ks = sorted({k for r in results for k in r.pass_at})
        aspr = summarize(r.aspr for r in results)
        return {"problems": len(results), "samples": results[0].n if results else 0,
                "pass@k": {k: mean_pass_at_k(counts, k) for k in ks},
                "aspr": aspr.value, "aspr_included": aspr.included, "aspr_excluded": aspr.excluded,
                "tokens_per_problem": sum(r.tokens for r in results) / len(results) if results else None}

    def metrics(self) -> dict[str, float | None]:
        """Run-store metric points: ``eval/pass@K/MODE``, ``eval/aspr/MODE``, ``eval/aspr_problems/MODE``,
        ``eval/aspr_excluded/MODE``, ``eval/tokens/MODE`` and, with both modes, ``eval/delta/pass@1`` and
        ``eval/delta/aspr`` (pseudocode minus vanilla)."""
        points: dict[str, float | None] = {}
        for mode in self.modes:
            s = self.summary(mode)
            for k, value in s["pass@k"].items():
                points[f"eval/pass@{k}/{mode}"] = value
            points[f"eval/aspr/{mode}"] = s["aspr"]
            points[f"eval/aspr_problems/{mode}"] = s["aspr_included"]
            points[f"eval/aspr_excluded/{mode}"] = s["aspr_excluded"]
            points[f"eval/tokens/{mode}"] = s["tokens_per_problem"]
        if {"vanilla", "pseudocode"} <= set(self.modes):
            for name in ("pass@1", "aspr"):
                a, b = points.get(f"eval/{name}/vanilla"), points.get(f"eval/{name}/pseudocode")
                points[f"eval/delta/{name}"] = None if a is None or b is None else b - a
        return points

    def to_dict(self) -> dict:
        return {"model": self.model, "config": self.config,
                "summary": {mode: self.summary(mode) for mode in self.modes},
                "metrics": self.metrics(),
                "problems": {mode: [r.to_dict() for r in results] for mode, results in self.results.items()}}
