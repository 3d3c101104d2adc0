"""Whole traces sampled in batches: a cheap held-out Pass@1 for a policy trained on reasoning traces.

Table 1's pseudocode mode (:mod:`o1coder.evaluation.sampling`) generates one step per call, as the search does, one
problem at a time. A policy warm-started on whole traces (:mod:`o1coder.training.world_policy`) can also answer in
one call: the zero-shot pseudocode prompt in, every step up to the code step out. Many problems then share one
generation batch, which makes n >= 200 held-out problems affordable on a CPU. Each trace is split into steps by the
step parser; the answer is the code of the first code step, scored on the problem's hidden tests in the sandbox.

``TraceScore`` also counts how many generated steps parse: the first thing a warm start must teach a tiny model.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

from o1coder.models.base import Generator, SamplingParams
from o1coder.problems import Problem
from o1coder.reasoning import TRACE_STOP_STRINGS, Action, extract_program, parse_steps, render


@dataclass(frozen=True)
class TraceScore:
    """One sampled trace: how many of its steps parse, its program (None without a parsed code step), the result."""

    problem_id: str
    steps: int
    parsed_steps: int
    program: str | None
    passed: bool
    tokens: int


@dataclass
class TraceEvaluation:
    """Scores of one sampling pass over a problem set (one trace per problem)."""

    scores: list[TraceScore]

    @property
    def problems(self) -> int:
        return len(self.scores)

    @property
    def solved(self) -> int:
        return sum(s.passed for s in self.scores)

    @property
    def pass_at_1(self) -> float:
        return self.solved / self.problems if self.scores else 0.0

    @property
    def step_parse_rate(self) -> float:
        """Share of generated steps that parse (a trace that is one unparsable blob counts as one step)."""
        steps = sum(s.steps for s in self.scores)
        return sum(s.parsed_steps for s in self.scores) / steps if steps else 0.0

    @property
    def mean_tokens(self) -> float:
        return sum(s.tokens for s in self.scores) / self.problems if self.scores else 0.0

    def interval(self, z: float = 1.96) -> tuple[float, float]:
        """Wilson score interval of Pass@1 (95% for z = 1.96): honest near 0 and 1, unlike the normal one."""
        return wilson_interval(self.solved, self.problems, z)


def wilson_interval(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion."""
    if trials <= 0:
        raise ValueError(f"an interval needs at least one trial; got {trials!r}")
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def evaluate_traces(generator: Generator, problems: Sequence[Problem], sandbox, params: SamplingParams,
                    prompt=None) -> TraceEvaluation:
    """Sample one whole trace per problem (all problems in one ``generate`` call, which the backend batches) and
    score each on its hidden tests. ``prompt(problem)`` builds the prompt (default: the zero-shot pseudocode
    prompt the warm start trains on)."""
    from o1coder.training.data import prompt_of

    prompt = prompt or prompt_of
    params = dataclasses.replace(params, stop=tuple(dict.fromkeys(TRACE_STOP_STRINGS + params.stop)))
    completions = [samples[0] for samples in generator.generate([prompt(p) for p in problems], params, n=1)]
    parsed = [_read_trace(problem, c.text) for problem, c in zip(problems, completions)]
    jobs = [(program, problem.tests, problem.setup) for problem, (_, _, program) in zip(problems, parsed) if program]
    results = iter(sandbox.run_many(jobs) if jobs else [])
    scores = []
    for problem, completion, (steps, ok, program) in zip(problems, completions, parsed):
        passed = bool(program) and next(results).all_passed
        scores.append(TraceScore(problem.id, steps, ok, program, passed, completion.completion_tokens))
    return TraceEvaluation(scores)


def _read_trace(problem: Problem, text: str) -> tuple[int, int, str | None]:
    """(steps, steps that parse, the first code step's program) of a generated trace."""
    results = parse_steps(text)
    program = None
    for result in results:
        if result.ok and result.step.action == Action.CODE:
            program = extract_program(render(result.step), problem.entry_point).code or None
            break
    return max(1, len(results)), sum(r.ok for r in results), program
